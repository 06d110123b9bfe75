"""Staff pages (/admin), one file per resource, under one router:

- signin:    sign-in, sign-out and the staff dependencies (StaffDep, StaffPost)
- inbox:     the review inbox (grouped, filtered), dismissing
- entries:   teaching an example, a new FAQ entry (fact picker, preview)
- models:    retrain, the job's progress, compare, promote, roll back
- analytics: the center's figures
- records:   feedback, the audit log, LINE dead letters

Every page and action needs a signed-in staff member; every POST needs the
session's CSRF token. URLs are those of the single admin.py this replaced.
"""

from fastapi import APIRouter

from app.api.routes.admin import analytics, entries, inbox, models, records, signin
from app.api.routes.admin.common import project, render
from app.api.routes.admin.signin import (
    LOGIN_COOKIE,
    Staff,
    StaffDep,
    StaffPost,
    StaffRequired,
)

# The resource files, in the order their routes are tried.
PARTS = (signin, inbox, entries, models, analytics, records)

router = APIRouter()
for part in PARTS:
    router.include_router(part.router)

__all__ = [
    "LOGIN_COOKIE",
    "PARTS",
    "Staff",
    "StaffDep",
    "StaffPost",
    "StaffRequired",
    "project",
    "render",
    "router",
]
