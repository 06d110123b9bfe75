"""Settings of the gateway, from the environment (pydantic-settings).

Every name below is also the environment variable that sets it, e.g.
`RASA_URLS=http://rasa-a:5005,http://rasa-b:5005`. Facts (phone numbers,
hours) are not settings: they come from soudan/knowledge.yml.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The checkout: gateway/app/core/config.py is three folders below it.
REPO = Path(__file__).resolve().parents[3]


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore", frozen=True)

    PROJECT_NAME: str = "soudan-gateway"

    # Rasa's HTTP servers (REST channel). More than one: a conversation goes to
    # the one its id hashes to, and to the next one when that one is down.
    RASA_URLS: Annotated[list[AnyHttpUrl], NoDecode] = Field(
        default_factory=lambda: [AnyHttpUrl("http://localhost:5005")], min_length=1
    )
    # Rasa's HTTP API token (`rasa run --auth-token`), sent as `?token=` on the
    # API calls (restart a conversation; staffops' PUT /model). The REST
    # channel itself takes no token. RASA_TOKEN_FILE: read from a file instead
    # (docker-compose shares a generated one).
    RASA_TOKEN: SecretStr | None = None
    RASA_TOKEN_FILE: Path | None = None
    # The action server's base URL: the health check asks its /health.
    ACTIONS_URL: AnyHttpUrl | None = AnyHttpUrl("http://localhost:5055")
    # The staff records (inbox, feedback, audit log, dead letters, turn log):
    # a SQLAlchemy URL, e.g. postgresql://user@host:5432/soudan; empty: the
    # SQLite file RECORDS_SQLITE_PATH (relative: in STAFF_PROJECT_ROOT).
    DATABASE_URL: str | None = None
    RECORDS_SQLITE_PATH: Path = Path("var/records.sqlite")
    # redis://host:port/db; empty: state in this process's memory. Only what
    # is short-lived: conversations, rate limits, LINE de-duplication, sessions.
    REDIS_URL: str | None = None
    REDIS_KEY_PREFIX: str = "soudan:gateway:"

    # Seconds.
    RASA_TIMEOUT: float = Field(default=10.0, gt=0)
    RASA_CONNECT_TIMEOUT: float = Field(default=2.0, gt=0)
    HEALTH_TIMEOUT: float = Field(default=2.0, gt=0)
    REDIS_TIMEOUT: float = Field(default=0.5, gt=0)

    # Limits.
    MAX_MESSAGE_LENGTH: int = Field(default=1000, ge=1)
    MAX_BODY_BYTES: int = Field(default=65536, ge=1024)
    RATE_LIMIT_WINDOW: int = Field(default=60, ge=1)
    RATE_LIMIT_PER_CONVERSATION: int = Field(default=30, ge=1)
    RATE_LIMIT_PER_CLIENT: int = Field(default=120, ge=1)
    HISTORY_MAX: int = Field(default=200, ge=1)
    # A conversation (its cookie, its history) is forgotten after this many
    # seconds without a message.
    CONVERSATION_TTL: int = Field(default=7 * 24 * 3600, ge=60)

    # LINE Messaging API (the /line/webhook route answers 503 until both are set).
    LINE_CHANNEL_SECRET: str | None = None
    LINE_CHANNEL_ACCESS_TOKEN: str | None = None
    # LINE's API hosts; tests point them at a local fake server.
    LINE_API_URL: str = "https://api.line.me"
    LINE_DATA_API_URL: str = "https://api-data.line.me"
    # Events handled at once (each waits for Rasa); the rest queue in memory.
    LINE_CONCURRENCY: int = Field(default=8, ge=1)
    # Seconds between looks for events left pending by a task that died.
    LINE_RECOVER_EVERY: float = Field(default=30.0, gt=0)

    # Dead letters: LINE events that could not be handled (unknown type,
    # malformed, or failing LINE_MAX_ATTEMPTS times), kept for staff.
    LINE_MAX_ATTEMPTS: int = Field(default=5, ge=1)
    # The webhook's Redis calls together wait at most this long (seconds);
    # then this process's memory answers: LINE expects a 200 within ~1 s.
    LINE_REDIS_TIMEOUT: float = Field(default=0.3, gt=0)
    # Days a dead letter is listed for staff (it stays in the records).
    DEAD_LETTER_TTL_DAYS: float = Field(default=30, gt=0)

    # Host headers served (Starlette's TrustedHostMiddleware; "*.example.jp"
    # allowed). Others get 400, so no redirect or link is built on a forged Host.
    ALLOWED_HOSTS: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1"], min_length=1
    )
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed
    # (addresses or CIDR ranges). Empty: the peer's address is the client's.
    # Run uvicorn with --no-proxy-headers (run.sh, the Dockerfile do): this
    # setting is the one place where proxies are trusted.
    TRUSTED_PROXIES: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Signs the sign-in form's CSRF token (HMAC). Unset: a random key per
    # process (set it when several gateway processes share sign-ins).
    SECRET_KEY: SecretStr | None = None
    # Deepest JSON nesting accepted in a request body (422 beyond).
    MAX_JSON_DEPTH: int = Field(default=32, ge=2, le=500)

    COOKIE_NAME: str = "soudan_conversation"
    # Set true behind HTTPS (the cookie is then only sent over HTTPS).
    COOKIE_SECURE: bool = False

    # Staff tools (/admin). The project tree staffops reads and writes
    # (chatbot/data, soudan/*.yml, models/); tests point it at a copy.
    STAFF_PROJECT_ROOT: Path = REPO
    # Staff accounts (`python -m app.staff_accounts add <name>`), argon2 hashes.
    STAFF_ACCOUNTS_FILE: Path = REPO / "var" / "staff_accounts.json"
    # A staff session ends after this many seconds without a request.
    STAFF_SESSION_TTL: int = Field(default=8 * 3600, ge=60)
    STAFF_COOKIE_NAME: str = "soudan_staff"
    # Failed sign-ins allowed per address (and per account name) in the window.
    STAFF_LOGIN_ATTEMPTS: int = Field(default=5, ge=1)
    STAFF_LOGIN_WINDOW: int = Field(default=300, ge=1)
    # Seconds the last user message of a LINE conversation is kept for feedback.
    FEEDBACK_CONTEXT_TTL: int = Field(default=24 * 3600, ge=60)
    # A confident answer to a conversation's first question followed by
    # nothing (no message, no feedback) for this many seconds goes into the
    # staff inbox as "abandoned"; looked for every ABANDONED_SWEEP_EVERY seconds.
    ABANDONED_AFTER: float = Field(default=30 * 60, gt=0)
    ABANDONED_SWEEP_EVERY: float = Field(default=60, gt=0)

    @field_validator("RASA_URLS", "ALLOWED_HOSTS", "TRUSTED_PROXIES", mode="before")
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        return _comma_list(value)

    @field_validator("STAFF_PROJECT_ROOT", "STAFF_ACCOUNTS_FILE", mode="after")
    @classmethod
    def _from_repo(cls, value: Path) -> Path:
        # A relative path is relative to the checkout, wherever the app runs from.
        return value if value.is_absolute() else REPO / value

    @property
    def records_url(self) -> str:
        """The records' database: DATABASE_URL, else the SQLite file."""
        if self.DATABASE_URL:
            return self.DATABASE_URL
        path = self.RECORDS_SQLITE_PATH
        return f"sqlite:///{path if path.is_absolute() else self.STAFF_PROJECT_ROOT / path}"

    @property
    def line_configured(self) -> bool:
        return bool(self.LINE_CHANNEL_SECRET and self.LINE_CHANNEL_ACCESS_TOKEN)

    @property
    def rasa_urls(self) -> list[str]:
        return [str(url).rstrip("/") for url in self.RASA_URLS]

    @property
    def rasa_token(self) -> str | None:
        """RASA_TOKEN, else the first line of RASA_TOKEN_FILE; None when neither is set."""
        if self.RASA_TOKEN is not None:
            return self.RASA_TOKEN.get_secret_value() or None
        if self.RASA_TOKEN_FILE is not None:
            try:
                return self.RASA_TOKEN_FILE.read_text(encoding="utf-8").strip() or None
            except OSError:
                return None
        return None

    @property
    def actions_url(self) -> str | None:
        if self.ACTIONS_URL is None:
            return None
        url = str(self.ACTIONS_URL).rstrip("/")
        # ACTION_ENDPOINT_URL-style values name the webhook; the base is wanted.
        return url.removesuffix("/webhook")


@lru_cache
def get_settings() -> Settings:
    return Settings()
