from fastapi import APIRouter

from app.api.routes import admin, chat, feedback, health, line, pages

api_router = APIRouter()
# Routes are tried in this order and the paths do not overlap: the chat and
# the LINE webhook first, the staff pages (the most routes, one package:
# app.api.routes.admin, analytics included) last.
api_router.include_router(chat.router)
api_router.include_router(line.router)
api_router.include_router(feedback.router)
api_router.include_router(health.router)
api_router.include_router(pages.router)
api_router.include_router(admin.router)
