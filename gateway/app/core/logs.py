"""Keep LINE user ids, tokens and personal data out of every log line.

`install_redaction()` wraps the process's log-record factory, so every
record of every logger (the gateway's, uvicorn's, the LINE SDK's, asyncio's)
is cleaned when it is made, before any handler (a file, the console,
pytest's caplog) sees it:

- LINE ids — users `U`, groups `C`, rooms `R` followed by 32 hex digits —
  become `U****`;
- `token=...` query parameters (Rasa's API token) become `token=***`;
- personal data is masked by soudan.masking's rules (numbers, e-mail
  addresses, names with an honorific...; not the NER model, which is loaded
  only when something is stored).

The message is formatted with its arguments first, and a traceback
(`log.exception`) is formatted into `exc_text` and cleaned the same way; the
exception object itself is dropped from the record (`exc_info`), so no
handler can format it again from the raw values.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from soudan.masking import mask_rules

LINE_ID = re.compile(r"(?<![0-9A-Za-z])[UCR][0-9a-f]{32}(?![0-9A-Za-z])")
TOKEN = re.compile(r"(token=)[^&\s'\"]+", re.IGNORECASE)

_installed = False


def redact(text: str) -> str:
    """The text without LINE ids, tokens or personal data."""
    if not text:
        return text
    text = LINE_ID.sub(lambda m: m.group(0)[0] + "****", text)
    text = TOKEN.sub(r"\1***", text)
    return mask_rules(text)


def _clean(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what can be shown
        message = f"{record.msg!r} {record.args!r}"
    record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = redact(text)
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install_redaction() -> None:
    """Clean every log record of this process from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            return _clean(record)
        except Exception:  # logging must never fail: say less rather than nothing
            record.msg, record.args = f"(log line withheld: {record.name})", ()
            record.exc_info = record.exc_text = record.stack_info = None
            return record

    logging.setLogRecordFactory(factory)
    _installed = True
