"""The middleware, in the order that matters."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.core.config import Settings
from app.core.errors import refused_body, unavailable_body
from app.core.security import BodyGuard, SecurityHeaders


def install(app: FastAPI, settings: Settings) -> None:
    # The last added runs first: the proxy's client address, the headers on
    # everything (the 400s and 413 included), the Host check, the body checks.
    app.add_middleware(
        BodyGuard,
        limit=settings.MAX_BODY_BYTES,
        max_depth=settings.MAX_JSON_DEPTH,
        reply=refused_body,
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.ALLOWED_HOSTS)
    app.add_middleware(SecurityHeaders, error_reply=unavailable_body, hsts=settings.COOKIE_SECURE)
    if settings.TRUSTED_PROXIES:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.TRUSTED_PROXIES)
