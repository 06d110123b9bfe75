"""The catalogue of situations the assistant answers (knowledge.yml → `catalogue`).

Each entry is one thing people bring (a fraud type, a kind of number, what to
do after clicking a link...): its first two lines, its details, the hotlines
that fit, follow-up buttons and the sources. The NLU knows an entry as the
retrieval intent `faq/<key>`; staff-made entries come from
`catalogue_staff.yml` (written by staffops), read after the main catalogue,
whose entries win on a conflict.

Plain module: no Rasa, no FastAPI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from soudan.knowledge import HERE, answers, knowledge
from soudan.normalize import normalize

STAFF_CATALOGUE_FILE = HERE / "catalogue_staff.yml"
# The retrieval intent that carries every catalogue entry (`faq/<key>`).
RETRIEVAL_INTENT = "faq"
# The entity a button uses to name an entry (`/faq{"entry": "<key>"}`).
ENTRY_ENTITY = "entry"


@dataclass(frozen=True)
class Entry:
    key: str
    title: str
    group: str
    now: str  # template: two lines, what to do now and where to call
    details: str = ""  # template: the rest
    hotlines: tuple[str, ...] = ()
    web: tuple[str, ...] = ()
    buttons: tuple[tuple[str, str], ...] = ()
    family: str | None = None
    cost: str | None = None
    safe: str | None = None
    block: str | None = None  # a catalogue key, or a template
    sources: tuple[str, ...] = ()
    staff: bool = False  # made by call-center staff (catalogue_staff.yml)
    # Words a message must hold to be about this entry, for entries the model
    # confuses with a common word (「Xで悪口を書かれた」 is not about the
    # center's X account): without them the entry is not a reading.
    requires: str | None = None

    @property
    def intent(self) -> str:
        return f"{RETRIEVAL_INTENT}/{self.key}"

    @property
    def description(self) -> str:
        """One line for staff pages: the first line of what the bot says first."""
        return self.now.splitlines()[0] if self.now else ""


def make_entry(key: str, spec: dict[str, Any], *, staff: bool = False) -> Entry:
    """An entry from its YAML spec (also for previews of a draft entry)."""
    return Entry(
        key=key,
        title=spec["title"],
        group=spec.get("group") or "staff",
        now=spec["now"],
        details=spec.get("details") or "",
        hotlines=tuple(spec.get("hotlines") or ()),
        web=tuple(spec.get("web") or ()),
        buttons=tuple((str(t), str(k)) for t, k in spec.get("buttons") or ()),
        family=spec.get("family"),
        cost=spec.get("cost"),
        safe=spec.get("safe"),
        block=spec.get("block"),
        sources=tuple(spec.get("sources") or ()),
        staff=staff,
        requires=spec.get("requires"),
    )


def plausible(key: str, text: str) -> bool:
    """Can `text` be about this entry (its `requires` words, when it has some)?"""
    found = entry(key)
    if not found or not found.requires:
        return True
    return bool(re.search(found.requires, normalize(text), re.IGNORECASE))


def entries() -> dict[str, Entry]:
    """Every entry by key: the main catalogue, then staff-made entries it lacks."""
    return _entries(_mtime(STAFF_CATALOGUE_FILE))


def _mtime(path: Path) -> int:
    return path.stat().st_mtime_ns if path.is_file() else 0


@lru_cache(maxsize=1)
def _entries(staff_mtime: int) -> dict[str, Entry]:
    found = {key: make_entry(key, spec) for key, spec in knowledge()["catalogue"].items()}
    if staff_mtime:
        with STAFF_CATALOGUE_FILE.open(encoding="utf-8") as fh:
            for key, spec in (yaml.safe_load(fh) or {}).items():
                found.setdefault(key, make_entry(key, spec, staff=True))
    return found


def entry(key: str | None) -> Entry | None:
    return entries().get(key) if key else None


def is_entry(key: str | None) -> bool:
    return entry(key) is not None


@dataclass(frozen=True)
class Family:
    key: str
    title: str
    now: str
    hotlines: tuple[str, ...]


def family(key: str | None) -> Family | None:
    spec = knowledge().get("families", {}).get(key) if key else None
    if not spec:
        return None
    return Family(key, spec["title"], spec["now"], tuple(spec["hotlines"]))


def shared_family(first: str, second: str) -> str | None:
    """The family whose safe answer two entries share: their own family, or a
    family that covers their whole group (`covers_group`: any two fraud types)."""
    a, b = entry(first), entry(second)
    if not a or not b:
        return None
    if a.family and a.family == b.family:
        return a.family
    for key, spec in knowledge().get("families", {}).items():
        if spec.get("covers_group") and spec["covers_group"] == a.group == b.group:
            return key
    return None


def entry_of_intent(name: str | None) -> Entry | None:
    """The entry of a full retrieval intent name (`faq/nise_keisatsu`)."""
    if not name or "/" not in name:
        return None
    retrieval, key = name.split("/", 1)
    return entry(key) if retrieval == RETRIEVAL_INTENT else None


def topic_label(key: str | None) -> str:
    """A Japanese name for a topic (an entry key, or an intent that is a topic)."""
    if not key:
        return "（話題なし）"
    found = entry(key)
    if found:
        return found.title
    return intent_label(key)


def intent_label(name: str | None) -> str:
    """A Japanese name for an NLU intent, retrieval intents included.

    Staff pages never show an English id: an unknown name falls back to a
    neutral 「その他（…）」 with the id in parentheses only as a last resort.
    """
    if not name:
        return "（なし）"
    found = entry_of_intent(name)
    if found:
        return found.title
    label = (answers().get("labels") or {}).get(name)
    if label:
        return label
    spec = answers().get(name) or {}
    if spec.get("label"):
        return spec["label"]
    return f"その他（{name}）"


def scam_type(key: str | None) -> str | None:
    """The fraud type of a topic, for analytics (an entry of the `fraud` group)."""
    found = entry(key)
    return found.key if found and found.group == "fraud" else None
