"""The web gateway: a chat page and a JSON API in front of Rasa.

Run: `uvicorn app.main:app` from gateway/ (see `make gateway`, `make run`).
Only assembly here: the services are built in app.core.lifespan, the
refusals are app.core.errors', the middleware app.core.middleware's.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.api.main import api_router
from app.api.routes import chat
from app.api.routes.pages import STATIC
from app.core import errors, middleware
from app.core.config import Settings, get_settings
from app.core.lifespan import lifespan
from app.core.logs import install_redaction


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_redaction()  # LINE user ids, Rasa tokens and personal data out of every log line
    app = FastAPI(
        title="でんわ・ネットトラブル相談アシスタント gateway",
        summary="Web chat and JSON API in front of the Rasa assistant",
        version="1.0.0",
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        # The interactive docs load scripts from a CDN, which the CSP forbids.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.include_router(api_router)
    chat.document(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(app)
    middleware.install(app, settings)
    return app


app = create_app()
