"""Find phone-number-like strings in a reply, to check them against the knowledge file."""

from __future__ import annotations

import re
import unicodedata

# 03-6162-1111, 0120-221-360, 0361621111, +81 3 ..., #9110, and short
# numbers such as 110 or 188 when the text calls them a number to dial.
_PATTERNS = [
    re.compile(r"\+?\d[\d\- ]{7,}\d"),
    re.compile(r"#\d{3,4}"),
    re.compile(r"(?<![\d.,])\d{3}(?=番|に電話|へ電話)"),
    re.compile(r"(?<=電話)\s*\d{3}(?!\d)"),
]


def phone_like(text: str) -> set[str]:
    text = unicodedata.normalize("NFKC", text)
    found = set()
    for pattern in _PATTERNS:
        found.update(m.group(0).strip() for m in pattern.finditer(text))
    return found
