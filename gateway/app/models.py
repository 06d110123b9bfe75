"""Request and response bodies of the gateway's API (they make its OpenAPI schema)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer


class ChatRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"message": "知らない番号から電話がかかってきた"}]},
    )

    message: str = Field(
        description=(
            "What the person wrote, or the payload of a quick-reply button. "
            "At most MAX_MESSAGE_LENGTH characters (1,000 by default); "
            "empty or longer messages get a polite reply with status 422."
        ),
    )
    label: str | None = Field(
        default=None,
        max_length=200,
        description="The title of the quick-reply button pressed: kept in the history instead of the payload.",
    )

    @field_validator("message", "label")
    @classmethod
    def _encodable(cls, value: str | None) -> str | None:
        # JSON may carry lone surrogates ("\ud800"), which no UTF-8 text holds.
        if value is None:
            return None
        return value.encode("utf-8", "replace").decode("utf-8")


class Button(BaseModel):
    title: str
    payload: str = Field(
        description="Sent as the next message when pressed; a `tel:` payload is a link that dials."
    )


DETAILS_DESCRIPTION = (
    "The rest of the answer (why, more steps, the hotlines with their hours), when the "
    "assistant split it: `text` carries what to do now and where to call, and the page shows "
    "`details` behind a 「くわしく」 disclosure (LINE sends it as the following message). "
    "Absent when the answer has no such part."
)


class WithDetails(BaseModel):
    """A message that may have a 「くわしく」 part (`details`); without one, its
    JSON is as it was before answers had details: no `details` key."""

    @model_serializer(mode="wrap")
    def _no_empty_details(self, handler):
        data = handler(self)
        if isinstance(data, dict) and data.get("details") is None:
            data.pop("details", None)
        return data


class BotMessage(WithDetails):
    text: str = Field(default="", description="What to show first: the answer's head.")
    buttons: list[Button] = Field(default_factory=list)
    details: str | None = Field(default=None, description=DETAILS_DESCRIPTION)


ReplyStatus = Literal["ok", "unavailable", "refused", "rate_limited"]


class ChatReply(BaseModel):
    """Every answer of /api/chat has this shape, errors included."""

    messages: list[BotMessage]
    status: ReplyStatus = Field(
        default="ok",
        description=(
            "`ok`: the assistant answered; `unavailable`: the assistant could not be reached and "
            "the gateway answers with the center's number and hours; `refused`: the message was "
            "not accepted (empty, too long, not JSON); `rate_limited`: too many messages."
        ),
    )
    topic: str | None = Field(
        default=None,
        description="The topic the assistant answered, when it did: the page then asks "
        "whether the answer helped (POST /api/feedback).",
    )


class ErrorReply(ChatReply):
    """A refused request: the chat's shape (polite `messages`, `status`
    `refused` or `rate_limited`), with `detail` saying what was wrong."""

    detail: str | list[dict] | None = Field(
        default=None,
        description="What was refused: a sentence, or the validation errors (loc, msg, type).",
    )


class WebhookAccepted(BaseModel):
    accepted: int = Field(description="Events new to this gateway, handled in the background.")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str = Field(min_length=1, max_length=100, description="`topic` of the answer rated")
    helpful: bool


class FeedbackReply(BaseModel):
    recorded: bool
    message: str


class HistoryEntry(WithDetails):
    role: Literal["user", "bot"]
    text: str = ""
    buttons: list[Button] = Field(default_factory=list)
    details: str | None = Field(default=None, description=DETAILS_DESCRIPTION)


class History(BaseModel):
    messages: list[HistoryEntry]


class HotlineInfo(BaseModel):
    key: str
    name: str
    number: str = Field(
        description="As written in the source, e.g. for display and for finding it in text."
    )
    tel: str = Field(description="The tel: URI that dials it.")
    hours: str


class Info(BaseModel):
    """What the page needs from the knowledge file, and the gateway's limits."""

    center: HotlineInfo
    hotlines: list[HotlineInfo]
    menu: list[Button]
    max_message_length: int


PartStatus = Literal["ok", "down", "not_configured"]


class InstanceHealth(BaseModel):
    name: str
    status: PartStatus


class PartHealth(BaseModel):
    status: PartStatus
    instances: list[InstanceHealth] | None = None


class HealthReport(BaseModel):
    status: Literal["ok", "degraded", "down"] = Field(
        description=(
            "`ok`: every part answers; `degraded`: chat works but a Rasa instance is down "
            "(HTTP 200); `down`: a needed part is down (HTTP 503)."
        )
    )
    rasa: PartHealth
    actions: PartHealth
    redis: PartHealth
