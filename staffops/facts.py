"""Facts staff can put into an answer, by their Japanese names.

Every phone number, hour, price and address an answer states comes from
soudan/knowledge.yml through a `{placeholder}` that the bot's renderer fills
in (soudan.knowledge.render). Staff never type one: the new-entry page lists
the facts by a Japanese label and value (`facts`), and the answer text they
edit shows a picked fact as ｛でんわんセンターの電話番号｝ (full-width braces:
they read as Japanese, and `{`/`}` stay the renderer's). `to_placeholders`
turns those back into placeholders before staffops.teach checks and saves
the answer; `to_labels` shows a saved answer the same way.

Digits typed into an answer are refused (staffops.teach.check_answer);
`explain_typed_numbers` says, in Japanese, which picker entry holds a typed
phone number when the knowledge file has it, and that a number it lacks
needs an engineer to add it with its source.

Plain module: no FastAPI.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from soudan.knowledge import PLACEHOLDER
from staffops.errors import Refused
from staffops.project import Project
from staffops.teach import _PHONE_IN_COPY, knowledge_data

# ｛…｝ in an answer as staff see it: a fact by its label.
TOKEN = re.compile(r"｛([^｛｝\n]{1,60})｝")

HOTLINE_FIELDS = {
    "number": "電話番号",
    "alt_number": "別の電話番号",
    "hours_text": "受付時間",
    "fee_text": "料金",
    "name": "正式な名前",
}
WEB_FIELDS = {"url": "ウェブサイト", "name": "正式な名前"}


@dataclass(frozen=True)
class Fact:
    path: str  # the placeholder's path into knowledge.yml (hotline.center.number)
    label: str  # what staff read and pick (でんわんセンターの電話番号)
    value: str  # the value as the bot writes it (03-6162-1111)
    group: str  # 電話の窓口 | ウェブの窓口

    @property
    def token(self) -> str:
        return f"｛{self.label}｝"


def facts(root=None) -> list[Fact]:
    """The facts of the knowledge file staff can put into an answer: each
    hotline's number, hours, fee and name, each web service's address and name."""
    data = knowledge_data(Project.at(root))
    found: list[Fact] = []
    for key, line in data["hotlines"].items():
        who = line.get("short_name") or line["name"]
        for field, what in HOTLINE_FIELDS.items():
            if line.get(field):
                found.append(
                    Fact(f"hotline.{key}.{field}", f"{who}の{what}", str(line[field]), "電話の窓口")
                )
    for key, spec in (data.get("web_services") or {}).items():
        for field, what in WEB_FIELDS.items():
            if spec.get(field):
                who = re.sub(r"（[^）]*）$", "", spec["name"])
                found.append(
                    Fact(
                        f"web_services.{key}.{field}",
                        f"{who}の{what}",
                        str(spec[field]),
                        "ウェブの窓口",
                    )
                )
    labels = [f.label for f in found]
    # One label, one fact: a duplicate would make ｛…｝ ambiguous.
    return [f for f in found if labels.count(f.label) == 1]


def to_placeholders(text: str, known: list[Fact]) -> str:
    """｛label｝ → {path}; Refused (in Japanese) for a label that is no fact."""
    by_label = {f.label: f for f in known}

    def swap(match: re.Match[str]) -> str:
        label = unicodedata.normalize("NFC", match.group(1)).strip()
        fact = by_label.get(label)
        if fact is None:
            raise Refused(
                f"「｛{label}｝」という差し込みはありません。"
                "「事実を差し込む」の一覧から選んでください",
                f"no fact is labelled {label!r}",
                label=label,
            )
        return "{" + fact.path + "}"

    return TOKEN.sub(swap, str(text or ""))


def to_labels(text: str, known: list[Fact]) -> str:
    """{path} → ｛label｝ for the facts of the picker (others stay as they are)."""
    by_path = {f.path: f for f in known}
    return PLACEHOLDER.sub(
        lambda m: by_path[m.group(1)].token if m.group(1) in by_path else m.group(0), text
    )


def _digits(text: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text))


def explain_typed_numbers(text: str, known: list[Fact]) -> str | None:
    """A Japanese explanation for a phone number typed into the answer (outside
    ｛…｝ and placeholders), or None when there is none."""
    copy = PLACEHOLDER.sub("", TOKEN.sub("", str(text or "")))
    match = _PHONE_IN_COPY.search(copy)
    if not match:
        return None
    typed = match.group(0).strip()
    for fact in known:
        if fact.path.endswith(("number", "alt_number")) and _digits(fact.value) == _digits(typed):
            return (
                f"「{typed}」は手で書かずに、「事実を差し込む」から"
                f"「{fact.label}」を選んでください（番号はすべて出典つきの知識ファイルから入ります）。"
            )
    folded = unicodedata.normalize("NFKC", typed)
    if not (folded[:1] in "0+#" or re.search(r"\d[-－ー()（）]\d|\)", folded)):
        return None  # an amount or a count (3000円), not a phone number: the digit rule says why
    return (
        f"「{typed}」は知識ファイル（soudan/knowledge.yml）にない番号です。"
        "回答に書ける番号は、出典とともに知識ファイルに登録されたものだけです。"
        "新しい番号の登録は技術者に依頼してください。"
    )


def as_choices(known: list[Fact]) -> dict[str, list[dict[str, Any]]]:
    """The facts by group, for the picker."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for fact in known:
        groups.setdefault(fact.group, []).append(
            {"token": fact.token, "label": fact.label, "value": fact.value}
        )
    return groups


def staff_answer(text: str, known: list[Fact]) -> str:
    """The answer as staff wrote it (facts as ｛label｝) in the bot's form
    ({placeholder}); Refused, in words for staff, for a typed number or digit
    (staffops.teach.check_answer then checks the rest)."""
    explained = explain_typed_numbers(text, known)
    if explained:
        raise Refused(explained, "a phone number typed into the answer")
    copy = PLACEHOLDER.sub("", TOKEN.sub("", str(text or "")))
    if re.search(r"[0-9０-９]", copy):
        raise Refused(
            "回答文に数字は直接書けません。時間・料金・番号などは、出典のある知識ファイルから"
            "「事実を差し込む」で選んでください（知識ファイルにないものは技術者に登録を依頼してください）。",
            "digits typed into the answer",
        )
    return to_placeholders(text, known)
