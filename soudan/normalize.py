"""Text normalisation shared by training, prediction and the channels.

The same function runs inside the Rasa pipeline (chatbot/components) on
training examples and on incoming messages, so what the model learned and
what it sees never differ in width, case or repeated marks.
"""

from __future__ import annotations

import re
import unicodedata

# Longest message the assistant reads; longer text is cut before NLU so that a
# pasted novel cannot slow the pipeline down.
MAX_CHARS = 1000

_CONTROL = re.compile(
    r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]"
)
_SPACE = re.compile(r"\s+")
# Dashes people type between digits (phone numbers, dates): 03ー6162ー1111.
_DIGIT_DASH = re.compile(r"(?<=\d)\s*[‐‑‒–—―−ｰー─━-]\s*(?=\d)")
# Punctuation and marks repeated for emphasis: ！！！ → !, ？？ → ?, ーーー → ー.
_REPEATED_MARK = re.compile(r"([!?。、．，.,…~〜ー・♪☆★※])\1+")
# Any other character but a digit repeated four times or more (ｗｗｗｗ): keep two.
_REPEATED_CHAR = re.compile(r"(\D)\1{3,}")


def normalize(text: str | None) -> str:
    """Return the canonical form of a user message.

    NFKC folds full-width digits and letters and half-width kana, then case,
    invisible characters, dashes between digits, runs of marks and white
    space are folded. Meaningful characters are never removed.
    """
    if not text:
        return ""
    text = _CONTROL.sub(" ", str(text))
    text = unicodedata.normalize("NFKC", text).lower()
    text = _DIGIT_DASH.sub("-", text)
    text = _REPEATED_MARK.sub(r"\1", text)
    text = _REPEATED_CHAR.sub(r"\1\1", text)
    text = _SPACE.sub(" ", text).strip()
    return text[:MAX_CHARS]


def has_words(text: str | None) -> bool:
    """True when the message holds letters or digits (not only emoji or marks)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in normalize(text))
