"""The exception handlers: every refusal in the chat's shape (a polite
Japanese `messages` list, a `status`, `detail`)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.routes.admin import StaffRequired
from app.models import ChatReply
from app.services import replies
from app.services.admission import RateLimited


def body(reply: ChatReply, **extra: object) -> dict:
    return {**reply.model_dump(), **extra}


def unavailable_body() -> dict:
    return body(ChatReply(messages=replies.unavailable(), status="unavailable"))


def refused_body(status: int, detail: str) -> dict:
    messages = replies.body_too_large() if status == 413 else replies.unreadable()
    return body(ChatReply(messages=messages, status="refused"), detail=detail)


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    # Only where and what: the input itself may be bytes that are not text.
    detail = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    reply = ChatReply(messages=replies.unreadable(), status="refused")
    return JSONResponse(body(reply, detail=detail), status_code=422)


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    messages = replies.not_found() if exc.status_code == 404 else replies.unreadable()
    reply = ChatReply(messages=messages, status="refused")
    return JSONResponse(
        body(reply, detail=exc.detail), status_code=exc.status_code, headers=exc.headers
    )


async def rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
    reply = ChatReply(messages=replies.rate_limited(exc.retry_after), status="rate_limited")
    return JSONResponse(body(reply), status_code=429, headers={"Retry-After": str(exc.retry_after)})


async def staff_required(request: Request, exc: StaffRequired) -> Response:
    if exc.json:
        return JSONResponse({"detail": "sign in first"}, status_code=401)
    return RedirectResponse("/admin/login", status_code=303)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RateLimited, rate_limited)  # type: ignore[arg-type]
    app.add_exception_handler(StaffRequired, staff_required)  # type: ignore[arg-type]
