"""Teach the assistant: label a message with an intent, as out of scope, or as a new topic.

Where staff changes go (and nowhere else):

- examples                → chatbot/data/nlu/staff.yml (created with version "3.1")
- a new topic's rule      → chatbot/data/rules/staff.yml (intent → action_answer)
- a new topic's intent    → appended to the `intents:` list of chatbot/domain.yml
  (a one-line text insertion, checked by parsing the result: comments and the
  other entries stay byte for byte; no round-trip YAML library needed, so it
  works in both environments)
- a new topic's answer    → soudan/answers_staff.yml (read by
  soudan.knowledge.answers() after answers.yml, which wins on a conflict)

Rules, each refused with a message in Japanese and English:

- an example is masked (soudan.masking) and compared after soudan.normalize:
  never twice in the training data, never equal to a held-out message
  (chatbot/heldout/nlu.yml stays unseen);
- a new intent's name matches `^[a-z][a-z0-9_]{2,40}$` and is not taken;
  from the staff pages it is generated (`generated_name`: staff_topic_001,
  ...) and the topic is known by its Japanese title (the answer's `label`,
  which soudan.catalogue.intent_label shows);
- a new answer states facts only through `{placeholders}` into
  soudan/knowledge.yml: no digit and no URL outside them; a new phone number
  needs a knowledge-file entry with its source first (an engineer's change);
- hotline keys exist in soudan/knowledge.yml.

Every change is then checked with `rasa data validate --fail-on-warnings
--config config.yml` in chatbot/; when the validator says no, every file is
put back byte for byte and ValidationFailed carries the validator's message.
Accepted changes and refusals go to the audit log.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from soudan.knowledge import PLACEHOLDER
from soudan.masking import mask
from soudan.normalize import MAX_CHARS, has_words, normalize
from staffops import audit
from staffops.errors import Refused, StaffOpsError, ValidationFailed
from staffops.locks import file_lock
from staffops.project import Project

INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]{2,40}$")
OUT_OF_SCOPE = "out_of_scope"
RETRIEVAL = "faq"  # the retrieval intent of the catalogue (faq/<entry>)
ANSWER_ACTION = "action_answer"
# Fewer examples than this and a new intent is not worth training.
MIN_NEW_TOPIC_EXAMPLES = 3
# Names Rasa or soudan use for something else.
RESERVED = {"menu", "nlu_fallback", "bad_input", "escalate", "restart", "back", "session_start"}
DOMAIN_MARK = "# taught by staff (staffops)"

NLU_HEADER = """\
# Examples labelled by call-center staff (python -m staffops label ...).
# Written by staffops: every change is checked by `rasa data validate` and
# logged in chatbot/staff/audit.jsonl. Texts are masked (soudan.masking).
"""
RULES_HEADER = """\
# Rules of the topics taught by call-center staff: each is answered by
# action_answer from soudan/answers_staff.yml. Written by staffops.
"""
ANSWERS_HEADER = """\
# Answers of the topics taught by call-center staff (python -m staffops label
# --new-topic). Same rules as answers.yml: copy only, every fact by a
# {placeholder} into knowledge.yml, no digits or URLs. answers.yml wins when an
# intent is in both. Written by staffops.
"""

# Rasa reads `[text](entity)`, `[text]{...}` and `[text][...]` in an example as
# an entity annotation.
_ENTITY_SYNTAX = re.compile(r"\[[^\]]+\][({\[]")
# Characters YAML cannot hold.
_NOT_PRINTABLE = re.compile(
    "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|\ufeff"
)
_URL = re.compile(r"https?:|www\.|://|\b[a-z0-9-]+\.(?:com|jp|net|org)\b", re.IGNORECASE)
_PHONE_IN_COPY = re.compile(r"[+＋#＃]?[0-9０-９][0-9０-９\-－ー()（） ]{2,}[0-9０-９]")


@dataclass
class Change:
    """An accepted change."""

    action: str  # label | new_topic
    intent: str
    examples: list[str]
    files: list[str]
    notes: list[str] = field(default_factory=list)
    inbox_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- reading


def read_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, text) pairs of an NLU file, as Rasa reads them."""
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs = []
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples") or "").splitlines():
            if line.startswith("-"):
                pairs.append((block["intent"], line[1:].strip()))
    return pairs


def training_examples(root=None) -> dict[str, tuple[str, str]]:
    """Normalised text → (intent, file) of every training example."""
    project = Project.at(root)
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(project.nlu_dir.glob("*.yml")):
        for intent, text in read_examples(path):
            found.setdefault(normalize(text), (intent, str(path.relative_to(project.root))))
    return found


def heldout_texts(root=None) -> set[str]:
    return {normalize(text) for _, text in read_examples(Project.at(root).heldout)}


def domain_intents(root=None) -> list[str]:
    data = yaml.safe_load(Project.at(root).domain.read_text(encoding="utf-8")) or {}
    names = []
    for item in data.get("intents") or []:
        names.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return names


def label_names(root=None) -> list[str]:
    """What an example can be labelled as: the domain's intents, and each catalogue
    entry as its retrieval intent (`faq/nise_keisatsu`) in place of the bare `faq`."""
    project = Project.at(root)
    names = domain_intents(project)
    catalogue = knowledge_data(project).get("catalogue") or {}
    if RETRIEVAL in names:
        names = [n for n in names if n != RETRIEVAL] + [f"{RETRIEVAL}/{key}" for key in catalogue]
    return names


def knowledge_data(root=None) -> dict[str, Any]:
    data = yaml.safe_load(Project.at(root).knowledge.read_text(encoding="utf-8"))
    data["hotline"] = data["hotlines"]  # as soudan.knowledge does
    return data


def all_answers(root=None) -> dict[str, Any]:
    project = Project.at(root)
    merged = yaml.safe_load(project.answers.read_text(encoding="utf-8")) or {}
    for intent, spec in _staff_answers(project).items():
        merged.setdefault(intent, spec)
    return merged


def topics(root=None) -> dict[str, dict[str, Any]]:
    """The staff-taught topics: intent → {answer, hotlines, examples}."""
    project = Project.at(root)
    examples: dict[str, list[str]] = {}
    for intent, text in read_examples(project.staff_nlu):
        examples.setdefault(intent, []).append(text)
    return {
        intent: {
            "answer": spec.get("text", ""),
            "hotlines": spec.get("hotlines", []),
            "examples": examples.get(intent, []),
        }
        for intent, spec in _staff_answers(project).items()
    }


# ---------------------------------------------------------------- checks


def clean_example(text: str) -> str:
    """The text as it will be stored: masked, printable, on one line."""
    text = _NOT_PRINTABLE.sub(" ", mask(str(text or "")))
    text = re.sub(r"\s+", " ", text).strip()
    return text.lstrip("- ").strip()


def check_examples(texts: list[str], project: Project, intent: str) -> tuple[list[str], list[str]]:
    """The cleaned examples and notes; Refused on the first one that breaks a rule."""
    trained = training_examples(project)
    heldout = heldout_texts(project)
    cleaned: list[str] = []
    notes: list[str] = []
    seen: set[str] = set()
    for raw in texts:
        text = clean_example(raw)
        if not text or not has_words(text):
            raise Refused("例文が空です（文字がありません）", "the example is empty (no letters)")
        if len(text) > MAX_CHARS:
            raise Refused(
                f"例文が長すぎます（{MAX_CHARS}文字まで）",
                f"the example is longer than {MAX_CHARS} characters",
            )
        if _ENTITY_SYNTAX.search(text):
            raise Refused(
                "例文に「[…](…)」の形は使えません（Rasaのエンティティ記法と区別できません）",
                "an example cannot contain `[...](...)`: Rasa reads it as an entity annotation",
                text=text,
            )
        key = normalize(text)
        if key in heldout:
            raise Refused(
                "この文は評価用データ（chatbot/heldout/nlu.yml）にあるため、学習には使えません",
                "this text is in the held-out set (chatbot/heldout/nlu.yml), which must stay "
                "unseen by training",
                text=text,
            )
        if key in trained:
            other, where = trained[key]
            if other == intent:
                raise Refused(
                    f"この文はすでに「{intent}」の例文です（{where}）",
                    f"this text is already an example of {intent} ({where})",
                    text=text,
                )
            raise Refused(
                f"この文はすでに別の意図「{other}」の例文です（{where}）。"
                "付け替えはエンジニアに依頼してください",
                f"this text is already an example of another intent, {other} ({where}); "
                "moving it is an engineer's change",
                text=text,
                intent=other,
            )
        if key in seen:
            raise Refused("同じ例文が二回あります", "the same example is given twice", text=text)
        seen.add(key)
        if text != re.sub(r"\s+", " ", str(raw)).strip():
            notes.append(f"masked or cleaned: {text}")
        cleaned.append(text)
    return cleaned, notes


def check_intent_name(name: str, project: Project) -> None:
    if not INTENT_NAME.fullmatch(name or ""):
        raise Refused(
            "意図の名前は半角英小文字で始まり、英小文字・数字・_ の3〜41文字にしてください"
            "（例: scam_refund_call）",
            "an intent name must match ^[a-z][a-z0-9_]{2,40}$ (e.g. scam_refund_call)",
            name=name,
        )
    taken = set(domain_intents(project)) | set(all_answers(project)) | RESERVED
    taken |= {intent for intent, _ in training_examples(project).values()}
    if name in taken or name.startswith(("utter_", "action_", "validate_")):
        raise Refused(
            f"「{name}」はすでに使われている名前です",
            f"the name {name!r} is already taken",
            name=name,
        )


GENERATED_PREFIX = "staff_topic_"
MAX_TITLE = 40


def generated_name(project: Project) -> str:
    """The next free generated intent name: staff_topic_001, staff_topic_002, ...

    Staff name a topic in Japanese; the id the tools need is made here, never
    typed (a number, since no Japanese title spells a valid id)."""
    taken = set(domain_intents(project)) | set(all_answers(project))
    taken |= {intent for intent, _ in training_examples(project).values()}
    numbers = [
        int(name[len(GENERATED_PREFIX) :])
        for name in taken
        if name.startswith(GENERATED_PREFIX) and name[len(GENERATED_PREFIX) :].isdigit()
    ]
    return f"{GENERATED_PREFIX}{max(numbers, default=0) + 1:03d}"


def check_title(title: str) -> str:
    text = re.sub(r"\s+", " ", _NOT_PRINTABLE.sub("", str(title or ""))).strip()
    if not has_words(text):
        raise Refused("話題の名前（日本語）を書いてください", "the topic needs a Japanese title")
    if len(text) > MAX_TITLE:
        raise Refused(
            f"話題の名前は{MAX_TITLE}文字までにしてください",
            f"the title is longer than {MAX_TITLE} characters",
        )
    if "{" in text or "}" in text or re.search(r"[0-9０-９]", text):
        raise Refused(
            "話題の名前に数字や「{」「}」は使えません（番号などは回答文に差し込んでください）",
            "a title cannot carry digits or braces",
        )
    return text


def _lookup(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(path)
    if isinstance(node, dict):
        raise KeyError(path)
    return node


def check_answer(answer: str, hotlines: list[str], root=None) -> tuple[str, list[str]]:
    """The cleaned answer and hotline keys; Refused when they break the knowledge-file rule."""
    project = Project.at(root)
    text = _NOT_PRINTABLE.sub("", str(answer or "")).replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    if not has_words(text):
        raise Refused("回答文が空です", "the answer is empty")
    data = knowledge_data(project)
    for match in PLACEHOLDER.finditer(text):
        try:
            _lookup(data, match.group(1))
        except KeyError:
            raise Refused(
                f"knowledge.yml に「{{{match.group(1)}}}」の項目がありません",
                f"soudan/knowledge.yml has no value {{{match.group(1)}}}",
                placeholder=match.group(1),
            ) from None
    copy = PLACEHOLDER.sub("", text)
    if "{" in copy or "}" in copy:
        raise Refused(
            "「{」「}」は {hotline.center.number} のような参照にだけ使えます",
            "braces are only for placeholders such as {hotline.center.number}",
        )
    if _PHONE_IN_COPY.search(copy):
        raise Refused(
            "回答文に電話番号は書けません。新しい番号は出典と一緒に soudan/knowledge.yml の"
            " hotlines に登録してもらい（エンジニアの作業）、{hotline.<key>.number} で参照してください",
            "an answer cannot carry a phone number: a new number needs an entry with its "
            "source under `hotlines` in soudan/knowledge.yml first (an engineer's change), "
            "then the answer refers to it as {hotline.<key>.number}",
        )
    if re.search(r"[0-9０-９]", copy):
        raise Refused(
            "回答文に数字は書けません。時間・金額・日付・番号は knowledge.yml の項目を"
            " {…} で参照してください",
            "an answer cannot carry digits: hours, prices, dates and numbers come from "
            "soudan/knowledge.yml by {placeholder}",
        )
    if _URL.search(copy):
        raise Refused(
            "回答文にURLは書けません。URLは knowledge.yml の項目を {…} で参照してください",
            "an answer cannot carry a URL: URLs come from soudan/knowledge.yml by {placeholder}",
        )
    keys = list(dict.fromkeys(str(k).strip() for k in hotlines or [] if str(k).strip()))
    if not keys:
        raise Refused(
            "案内する窓口（hotline）を一つ以上選んでください",
            "give at least one hotline key to offer with the answer",
        )
    unknown = [k for k in keys if k not in data["hotlines"]]
    if unknown:
        raise Refused(
            f"knowledge.yml にない窓口です: {', '.join(unknown)}（使えるもの: "
            f"{', '.join(data['hotlines'])}）",
            f"unknown hotline keys {unknown}; known: {list(data['hotlines'])}",
            hotlines=unknown,
        )
    return text, keys


# ---------------------------------------------------------------- writing


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _dump(data: Any) -> str:
    return yaml.dump(
        data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10**6, indent=2
    )


def _staff_answers(project: Project) -> dict[str, Any]:
    if not project.staff_answers.is_file():
        return {}
    return yaml.safe_load(project.staff_answers.read_text(encoding="utf-8")) or {}


def render_nlu(blocks: dict[str, list[str]]) -> str:
    out = ['version: "3.1"\n', NLU_HEADER, "nlu:\n"]
    for intent, examples in blocks.items():
        out.append(f"- intent: {intent}\n  examples: |\n")
        out.extend(f"    - {text}\n" for text in examples)
    text = "".join(out)
    parsed: dict[str, list[str]] = {}
    for intent, example in read_examples_text(text):
        parsed.setdefault(intent, []).append(example)
    if parsed != blocks:  # a text YAML would read differently
        raise Refused("例文を書き込めない文字があります", "an example cannot be written as YAML")
    return text


def read_examples_text(text: str) -> list[tuple[str, str]]:
    data = yaml.safe_load(text) or {}
    return [
        (block["intent"], line[1:].strip())
        for block in data.get("nlu") or []
        for line in str(block.get("examples") or "").splitlines()
        if line.startswith("-")
    ]


def render_rules(intents: list[str]) -> str:
    out = ['version: "3.1"\n', RULES_HEADER, "\nrules:\n"]
    for intent in intents:
        out.append(
            f"- rule: answer {intent}\n  steps:\n  - intent: {intent}\n"
            f"  - action: {ANSWER_ACTION}\n\n"
        )
    return "".join(out).rstrip("\n") + "\n"


def render_answers(answers: dict[str, Any]) -> str:
    text = ANSWERS_HEADER + "\n" + _dump(answers)
    if yaml.safe_load(text) != answers:
        raise Refused("回答文を書き込めない文字があります", "the answer cannot be written as YAML")
    return text


def _staff_rule_intents(project: Project) -> list[str]:
    if not project.staff_rules.is_file():
        return []
    data = yaml.safe_load(project.staff_rules.read_text(encoding="utf-8")) or {}
    intents = []
    for rule in data.get("rules") or []:
        for step in rule.get("steps") or []:
            if "intent" in step:
                intents.append(step["intent"])
    return intents


def domain_with_intent(text: str, intent: str) -> str:
    """domain.yml's text with `intent` appended to its `intents:` list, nothing else changed."""
    lines = text.splitlines(keepends=True)
    unexpected = Refused(
        "domain.yml の intents: の形が想定と違うため、自動で追加できません",
        "chatbot/domain.yml's intents: list has an unexpected layout; add the intent by hand",
    )
    start = next((i for i, line in enumerate(lines) if line.startswith("intents:")), None)
    if start is None:
        raise Refused("domain.yml に intents: がありません", "chatbot/domain.yml has no intents:")
    if not re.fullmatch(r"intents:\s*(#.*)?", lines[start].rstrip("\n")):
        raise unexpected  # a flow list ([a, b]) on the key's line
    last, indent = start, "  "
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.strip() == "" or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and not line.startswith("-"):
            break  # the next top-level key
        last = i
        item = re.match(r"(\s*)- ", line)
        if item and not line.startswith("-"):
            indent = item.group(1)
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    lines.insert(last + 1, f"{indent}- {intent}  {DOMAIN_MARK}\n")
    new = "".join(lines)
    old_data, new_data = yaml.safe_load(text), yaml.safe_load(new)
    expected = dict(old_data, intents=[*old_data["intents"], intent])
    if new_data != expected:
        raise unexpected
    return new


def _write(path: Path, data: bytes) -> None:
    """Replace a file's bytes atomically (same directory, same permissions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.staffops-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    if path.exists():
        os.chmod(tmp, path.stat().st_mode & 0o7777)
    os.replace(tmp, path)


def validate_data(root=None, timeout: float = 600) -> tuple[bool, str]:
    """Run `rasa data validate --fail-on-warnings --config config.yml` in chatbot/."""
    project = Project.at(root)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false")
    proc = subprocess.run(
        [
            str(project.rasa_bin),
            "data",
            "validate",
            "--fail-on-warnings",
            "--config",
            "config.yml",
        ],
        cwd=project.chatbot,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode == 0:
        return True, ""
    return False, validator_message(proc.stdout + "\n" + proc.stderr)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def validator_message(output: str) -> str:
    """The validator's findings without its log noise (deprecation warnings, INFO lines)."""
    found: list[str] = []
    for raw in output.splitlines():
        line = _ANSI.sub("", raw).strip()
        warning = re.search(r"UserWarning: (.*)", line)
        if warning:
            line = warning.group(1).strip()
        elif not re.search(r"\b(ERROR|[Ee]rrors?|Invalid|invalid)\b", line) or re.search(
            r"Deprecat|MovedIn20|FutureWarning| INFO ", line
        ):
            continue
        if line and line not in found:
            found.append(line)
    return "\n".join(found[-20:]) or _ANSI.sub("", output.strip())[-2000:]


def commit(root, contents: dict[Path, str], validate: bool = True) -> None:
    """Write the files, validate, and put every file back byte for byte on failure."""
    project = Project.at(root)
    before = {path: (path.read_bytes() if path.exists() else None) for path in contents}
    try:
        for path, text in contents.items():
            _write(path, text.encode("utf-8"))
        if validate:
            ok, message = validate_data(project)
            if not ok:
                raise ValidationFailed(
                    "Rasa のデータ検査（rasa data validate）で問題が見つかったため、変更を取り消しました:\n"
                    + message,
                    "rasa data validate rejected the change; every file was restored:\n" + message,
                    validator=message,
                )
    except BaseException:
        for path, data in before.items():
            if data is None:
                path.unlink(missing_ok=True)
            else:
                _write(path, data)
        raise


# ---------------------------------------------------------------- operations


def _refusal(project: Project, who: str | None, operation: str, error: StaffOpsError, **info):
    audit.record(
        "refused",
        {"operation": operation, "reason": error.en, "reason_ja": error.ja, **info},
        who=who,
        root=project,
    )


def label(
    text: str,
    intent: str,
    *,
    root=None,
    who: str | None = None,
    inbox_id: str | None = None,
    validate: bool = True,
) -> Change:
    """Add `text` as an example of an existing intent (or of out_of_scope)."""
    project = Project.at(root)
    with file_lock(project.lock_file, timeout=900, what="staff change"):
        try:
            if intent not in label_names(project):
                raise Refused(
                    f"「{intent}」という意図はありません。新しい話題なら --new-topic を使ってください",
                    f"there is no intent {intent!r}; use a new topic for a new one",
                    intent=intent,
                )
            (example,), notes = check_examples([text], project, intent)
            blocks: dict[str, list[str]] = {}
            for name, existing in read_examples(project.staff_nlu):
                blocks.setdefault(name, []).append(existing)
            blocks.setdefault(intent, []).append(example)
            commit(project, {project.staff_nlu: render_nlu(blocks)}, validate)
        except StaffOpsError as error:
            _refusal(project, who, "label", error, intent=intent, text=clean_example(text))
            raise
        change = Change(
            "label",
            intent,
            [example],
            [str(project.staff_nlu.relative_to(project.root))],
            notes,
            inbox_id,
        )
        audit.record("label", change.as_dict(), who=who, root=project)
        return change


def label_out_of_scope(text: str, **kwargs) -> Change:
    """Add `text` as an example of out_of_scope (the bot says what it can do)."""
    return label(text, OUT_OF_SCOPE, **kwargs)


def new_topic(
    name: str | None,
    examples: list[str],
    answer: str,
    hotlines: list[str],
    *,
    title: str | None = None,
    root=None,
    who: str | None = None,
    inbox_id: str | None = None,
    validate: bool = True,
    min_examples: int = MIN_NEW_TOPIC_EXAMPLES,
) -> Change:
    """A new FAQ topic: intent, examples, rule, domain entry and answer, in one checked change.

    `name` None: the name is generated (staff_topic_NNN) and `title`, the
    Japanese name staff gave, is required; it is kept as the answer's `label`."""
    project = Project.at(root)
    with file_lock(project.lock_file, timeout=900, what="staff change"):
        try:
            label_text = check_title(title) if (title is not None or name is None) else None
            if name is None:
                name = generated_name(project)
            check_intent_name(name, project)
            answer_text, keys = check_answer(answer, hotlines, project)
            cleaned, notes = check_examples(list(examples), project, name)
            if len(cleaned) < min_examples:
                raise Refused(
                    f"新しい話題には例文が{min_examples}つ以上必要です（10以上を勧めます）",
                    f"a new topic needs at least {min_examples} examples (10 or more recommended)",
                    count=len(cleaned),
                )
            blocks: dict[str, list[str]] = {}
            for intent, existing in read_examples(project.staff_nlu):
                blocks.setdefault(intent, []).append(existing)
            blocks[name] = cleaned
            rules = [*_staff_rule_intents(project), name]
            answers = _staff_answers(project)
            answers[name] = {"text": answer_text, "hotlines": keys}
            if label_text:
                answers[name]["label"] = label_text
            domain = domain_with_intent(project.domain.read_text(encoding="utf-8"), name)
            contents = {
                project.staff_nlu: render_nlu(blocks),
                project.staff_rules: render_rules(rules),
                project.domain: domain,
                project.staff_answers: render_answers(answers),
            }
            commit(project, contents, validate)
        except StaffOpsError as error:
            _refusal(project, who, "new_topic", error, intent=name, title=title)
            raise
        if len(cleaned) < 10:
            notes.append(
                f"only {len(cleaned)} examples: 10 or more make the new intent reliable "
                "(add more with `label ... --intent " + name + "`)"
            )
        change = Change(
            "new_topic",
            name,
            cleaned,
            [str(path.relative_to(project.root)) for path in contents],
            notes,
            inbox_id,
        )
        audit.record(
            "new_topic",
            {**change.as_dict(), "answer": answer_text, "hotlines": keys, "title": label_text},
            who=who,
            root=project,
        )
        return change
