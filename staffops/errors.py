"""Errors with a message for staff (Japanese) and for engineers (English)."""

from __future__ import annotations


class StaffOpsError(Exception):
    """A staff operation that did not happen; `ja` and `en` say why."""

    def __init__(self, ja: str, en: str, **details):
        super().__init__(f"{ja} / {en}")
        self.ja = ja
        self.en = en
        self.details = details

    def as_dict(self) -> dict:
        return {"error": type(self).__name__, "ja": self.ja, "en": self.en, **self.details}


class Refused(StaffOpsError):
    """The change breaks a rule (duplicate, held-out text, unknown intent, digits in an answer...)."""


class ValidationFailed(StaffOpsError):
    """`rasa data validate` rejected the change; the files were restored."""


class PromotionRefused(StaffOpsError):
    """The candidate is worse than the live model and no override reason was given."""


class ServerError(StaffOpsError):
    """A Rasa server did not accept a request (the change was undone where it had happened)."""


class Busy(StaffOpsError):
    """Another job is running."""
