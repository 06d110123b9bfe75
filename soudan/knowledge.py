"""Access to the knowledge file (knowledge.yml) and the reply copy (answers.yml).

Nothing here knows Rasa or FastAPI: actions and channels ask for a `Reply`
by intent and render it in their own way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
KNOWLEDGE_FILE = HERE / "knowledge.yml"
ANSWERS_FILE = HERE / "answers.yml"
# Answers of topics taught by call-center staff (staffops); written by tools,
# read after answers.yml, whose entries win on a conflict.
STAFF_ANSWERS_FILE = HERE / "answers_staff.yml"

PLACEHOLDER = re.compile(r"\{([\w.]+)\}")


class KnowledgeError(LookupError):
    """A placeholder or key that the knowledge file does not hold."""


@lru_cache(maxsize=1)
def knowledge() -> dict[str, Any]:
    with KNOWLEDGE_FILE.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    # `hotline.x` reads better in copy than `hotlines.x`.
    data["hotline"] = data["hotlines"]
    return data


def answers() -> dict[str, Any]:
    """answers.yml, then the staff's answers_staff.yml for intents it lacks.

    Read again when either file changes, so that a running action server
    answers a newly taught topic once its model is live.
    """
    return _answers(_mtime(ANSWERS_FILE), _mtime(STAFF_ANSWERS_FILE))


def _mtime(path: Path) -> int:
    return path.stat().st_mtime_ns if path.is_file() else 0


@lru_cache(maxsize=1)
def _answers(_main_mtime: int, staff_mtime: int) -> dict[str, Any]:
    with ANSWERS_FILE.open(encoding="utf-8") as fh:
        merged = yaml.safe_load(fh)
    if staff_mtime:
        with STAFF_ANSWERS_FILE.open(encoding="utf-8") as fh:
            for intent, spec in (yaml.safe_load(fh) or {}).items():
                merged.setdefault(intent, spec)
    return merged


def lookup(path: str) -> Any:
    """Value at a dotted path such as `hotline.center.number` or `docomo.articles.0`."""
    node: Any = knowledge()
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KnowledgeError(f"knowledge.yml has no entry {path!r}")
    if isinstance(node, dict):
        raise KnowledgeError(f"{path!r} is a section, not a value")
    return node


def render(template: str) -> str:
    """Fill `{path}` placeholders from the knowledge file.

    A list placeholder alone on its line becomes one "・" line per item;
    inside a sentence its items are joined with "、".
    """
    lines = []
    for line in template.splitlines():
        whole = PLACEHOLDER.fullmatch(line.strip())
        if whole:
            value = lookup(whole.group(1))
            if isinstance(value, list):
                lines.extend(f"・{render(str(item))}" for item in value)
                continue
        lines.append(PLACEHOLDER.sub(lambda m: _inline(lookup(m.group(1))), line))
    return "\n".join(lines)


def _inline(value: Any) -> str:
    # Knowledge values may themselves refer to other entries.
    if isinstance(value, list):
        return "、".join(render(str(v)) for v in value)
    return render(str(value))


@dataclass(frozen=True)
class Hotline:
    key: str
    name: str
    short_name: str
    number: str
    tel: str
    hours_text: str
    schedule: Any
    source: str
    note: str | None = None
    fee_text: str | None = None
    alt_number: str | None = None  # another way in (e.g. from IP phones)

    @property
    def tel_uri(self) -> str:
        # "#" must be escaped in a URI (RFC 3966), as %23.
        return "tel:" + self.tel.replace("#", "%23")

    def as_text(self) -> str:
        return f"{self.name} {self.number}\n{self.hours_text}"

    def as_dict(self) -> dict[str, str]:
        return {
            "key": self.key,
            "name": self.name,
            "number": self.number,
            "tel": self.tel_uri,
            "hours": self.hours_text,
        }


def hotline(key: str) -> Hotline:
    try:
        entry = knowledge()["hotlines"][key]
    except KeyError:
        raise KnowledgeError(f"knowledge.yml has no hotline {key!r}") from None
    return Hotline(
        key=key,
        name=entry["name"],
        short_name=entry["short_name"],
        number=str(entry["number"]),
        tel=str(entry["tel"]),
        hours_text=entry["hours_text"],
        schedule=entry.get("schedule"),
        source=entry["source"],
        note=render(entry["note"]) if entry.get("note") else None,
        fee_text=entry.get("fee_text"),
        alt_number=str(entry["alt_number"]) if entry.get("alt_number") else None,
    )


def hotlines() -> list[Hotline]:
    return [hotline(key) for key in knowledge()["hotlines"]]


def known_numbers() -> set[str]:
    """Every phone number the knowledge file lists, as written in the source."""
    return {h.number for h in hotlines()} | {h.alt_number for h in hotlines() if h.alt_number}


@dataclass
class Button:
    title: str
    intent: str  # an intent of the domain, or a key of the catalogue

    @property
    def payload(self) -> str:
        # Imported here: the catalogue module reads this one.
        from soudan.catalogue import ENTRY_ENTITY, RETRIEVAL_INTENT, is_entry

        if is_entry(self.intent):
            return f'/{RETRIEVAL_INTENT}{{"{ENTRY_ENTITY}":"{self.intent}"}}'
        return f"/{self.intent}"


@dataclass
class Reply:
    intent: str
    text: str
    buttons: list[Button] = field(default_factory=list)
    hotlines: list[Hotline] = field(default_factory=list)


def answer_intents() -> list[str]:
    return [key for key in answers() if key != "menu"]


def menu_buttons() -> list[Button]:
    return [Button(title, intent) for title, intent in answers()["menu"]]


def reply_for(intent: str) -> Reply:
    """The reply for an intent, rendered from the knowledge file."""
    spec = answers().get(intent) if intent != "menu" else None
    if spec is None:
        spec = answers()["nlu_fallback"]
        intent = "nlu_fallback"
    buttons = [Button(title, target) for title, target in spec.get("buttons", [])]
    if spec.get("menu"):
        buttons += [b for b in menu_buttons() if b.intent not in {x.intent for x in buttons}]
    return Reply(
        intent=intent,
        text=render(spec["text"]),
        buttons=buttons,
        hotlines=[hotline(key) for key in spec.get("hotlines", [])],
    )
