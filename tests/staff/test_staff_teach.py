"""Labelling: what goes where, `rasa data validate` for real, refusals, restores, the audit log.

Each test works on its own copy of the project tree (fixture `project`).
A validation takes about 10 s; refusals are decided before any write.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime

import pytest
import sqlalchemy as sa
import yaml
from staffkit import ROOT

from soudan.normalize import normalize
from staffops import audit, teach
from staffops.errors import Refused, ValidationFailed
from staffops.records.tables import audit_log

ANSWER = (
    "還付金の手続きでATMに行くよう求める電話は詐欺です。\n"
    "お金の手続きを電話で案内されたら、すぐに電話を切って{hotline.center.short_name}に相談してください。"
)
EXAMPLES = [
    "市役所から還付金があると電話がきた",
    "還付金の手続きでATMに行くように言われた",
    "医療費の払い戻しがあると電話で言われた",
    "保険料を返すのでATMに行ってと電話",
    "年金の還付があるって電話があったけど本当？",
]


def snapshot(project) -> dict[str, bytes | None]:
    paths = [project.staff_nlu, project.staff_rules, project.domain, project.staff_answers]
    paths += sorted(project.nlu_dir.glob("*.yml")) + sorted(
        project.chatbot.glob("data/rules/*.yml")
    )
    return {str(p): (p.read_bytes() if p.exists() else None) for p in paths}


def test_label_to_an_existing_intent_appends_to_staff_file(project):
    project.staff_nlu.unlink(missing_ok=True)
    text = "夜中に知らん番号から何回も着信あるんやけど、田中さんが090-1234-5678やって言うてた"
    change = teach.label(text, "faq/unknown_number", root=project, who="sato")

    stored = "夜中に知らん番号から何回も着信あるんやけど、〈名前〉さんが〈電話番号〉やって言うてた"
    assert change.examples == [stored]
    content = project.staff_nlu.read_text(encoding="utf-8")
    assert content.startswith('version: "3.1"\n')
    assert yaml.safe_load(content)["version"] == "3.1"
    assert ("faq/unknown_number", stored) in teach.read_examples(project.staff_nlu)
    assert "090" not in content and "田中" not in content

    entry = audit.read(project)[-1]
    assert entry["action"] == "label" and entry["who"] == "sato"
    assert entry["details"]["intent"] == "faq/unknown_number"
    assert entry["details"]["examples"] == [stored]


def test_out_of_scope_and_a_second_example_share_the_file(project):
    teach.label_out_of_scope("明日の大阪の天気を教えて", root=project, who="sato")
    teach.label("見たことない番号から不在着信が三件", "faq/unknown_number", root=project)
    pairs = teach.read_examples(project.staff_nlu)
    assert ("out_of_scope", "明日の大阪の天気を教えて") in pairs
    assert ("faq/unknown_number", "見たことない番号から不在着信が三件") in pairs
    assert [e["action"] for e in audit.read(project)] == ["label", "label"]


def test_new_topic_writes_intent_rule_domain_and_answer(project):
    domain_before = project.domain.read_text(encoding="utf-8")
    change = teach.new_topic(
        "scam_refund_call", EXAMPLES, ANSWER, ["center", "police_consult"], root=project, who="ito"
    )
    assert change.intent == "scam_refund_call"
    assert set(change.files) == {
        "chatbot/data/nlu/staff.yml",
        "chatbot/data/rules/staff.yml",
        "chatbot/domain.yml",
        "soudan/answers_staff.yml",
    }
    # NLU examples
    pairs = teach.read_examples(project.staff_nlu)
    assert [t for i, t in pairs if i == "scam_refund_call"] == EXAMPLES
    # the rule
    rules = yaml.safe_load(project.staff_rules.read_text(encoding="utf-8"))
    assert rules["version"] == "3.1"
    assert {"intent": "scam_refund_call"} in rules["rules"][-1]["steps"]
    assert {"action": "action_answer"} in rules["rules"][-1]["steps"]
    # the domain: one line added at the end of intents:, everything else byte for byte
    domain_after = project.domain.read_text(encoding="utf-8")
    added = [line for line in domain_after.splitlines() if line not in domain_before.splitlines()]
    assert added == [f"  - scam_refund_call  {teach.DOMAIN_MARK}"]
    assert domain_after.replace(added[0] + "\n", "") == domain_before
    assert teach.domain_intents(project)[-1] == "scam_refund_call"
    # the answer
    answers = yaml.safe_load(project.staff_answers.read_text(encoding="utf-8"))
    assert answers["scam_refund_call"] == {"text": ANSWER, "hotlines": ["center", "police_consult"]}
    assert teach.all_answers(project)["scam_refund_call"]["text"] == ANSWER
    assert teach.topics(project)["scam_refund_call"]["examples"] == EXAMPLES
    # audit
    entry = audit.read(project)[-1]
    assert entry["action"] == "new_topic"
    assert entry["details"]["answer"] == ANSWER
    # and then more examples for it through the ordinary label
    teach.label(
        "還付金があるのでコンビニのATMへ行けと言われた",
        "scam_refund_call",
        root=project,
        validate=False,
    )
    assert (
        len([1 for i, _ in teach.read_examples(project.staff_nlu) if i == "scam_refund_call"]) == 6
    )


def test_validator_failure_restores_every_file_byte_for_byte(project, monkeypatch):
    """The domain entry is left out on purpose: the validator refuses, all four files come back."""
    teach.label(
        "知らない番号からまた着信があった", "faq/unknown_number", root=project, validate=False
    )
    before = snapshot(project)
    assert before[str(project.staff_rules)] is None  # created by the change, then removed
    monkeypatch.setattr(teach, "domain_with_intent", lambda text, intent: text)

    with pytest.raises(ValidationFailed) as error:
        teach.new_topic("scam_refund_call", EXAMPLES, ANSWER, ["center"], root=project, who="ito")
    assert "scam_refund_call" in error.value.details["validator"]
    assert "not listed in your domain" in error.value.en
    assert snapshot(project) == before
    entry = audit.read(project)[-1]
    assert entry["action"] == "refused" and entry["details"]["operation"] == "new_topic"
    assert "rasa data validate" in entry["details"]["reason"]


def test_commit_restores_on_failure_including_new_files(project):
    new_file = project.chatbot / "data" / "nlu" / "zz_new.yml"
    before = project.staff_nlu.read_bytes() if project.staff_nlu.exists() else None
    bad = teach.render_nlu({"intent_not_in_domain": ["ドメインにない意図の例文です"]})
    with pytest.raises(ValidationFailed):
        teach.commit(project, {project.staff_nlu: bad, new_file: 'version: "3.1"\nnlu: []\n'})
    assert not new_file.exists()
    assert (project.staff_nlu.read_bytes() if project.staff_nlu.exists() else None) == before


def test_heldout_examples_are_refused(project):
    heldout = teach.read_examples(project.heldout)
    intent, text = heldout[0]
    # The same message typed differently (full width, spaces) is the same message.
    variant = " " + text.replace("？", "?") + "  "
    before = snapshot(project)
    with pytest.raises(Refused) as error:
        teach.label(variant, intent, root=project, who="sato")
    assert "held-out" in error.value.en and "評価用データ" in error.value.ja
    with pytest.raises(Refused):
        teach.new_topic(
            "scam_x_call", [*EXAMPLES, heldout[-1][1]], ANSWER, ["center"], root=project
        )
    assert snapshot(project) == before
    refusals = [e for e in audit.read(project) if e["action"] == "refused"]
    assert len(refusals) == 2 and "held-out" in refusals[0]["details"]["reason"]


def test_duplicates_are_refused_after_normalisation(project):
    intent, text = teach.read_examples(project.nlu_dir / "faq_calls.yml")[0]
    wide = text.translate({i: i + 0xFEE0 for i in range(0x21, 0x7F)})  # full-width ASCII
    with pytest.raises(Refused, match="already an example of faq/unknown_number"):
        teach.label(wide, intent, root=project)
    with pytest.raises(Refused, match="another intent, faq/unknown_number"):
        teach.label(text, "out_of_scope", root=project)
    with pytest.raises(Refused, match="given twice"):
        teach.new_topic(
            "scam_x_call",
            [*EXAMPLES, EXAMPLES[1].replace("ATM", "ＡＴＭ")],
            ANSWER,
            ["center"],
            root=project,
        )
    assert normalize(wide) == normalize(text)


@pytest.mark.parametrize(
    ("name", "answer", "hotlines", "expected"),
    [
        ("Scam", ANSWER, ["center"], "must match"),
        ("ab", ANSWER, ["center"], "must match"),
        ("ask_cost", ANSWER, ["center"], "already taken"),
        ("out_of_scope", ANSWER, ["center"], "already taken"),
        ("menu", ANSWER, ["center"], "already taken"),
        (
            "scam_x_call",
            "こちらへ 03-1234-5678 に電話してください",
            ["center"],
            "knowledge.yml first",
        ),
        ("scam_x_call", "０１２０－９９９－９９９へ", ["center"], "knowledge.yml first"),
        ("scam_x_call", "平日10時から相談できます", ["center"], "cannot carry digits"),
        ("scam_x_call", "詳しくは https://example.jp を見てください", ["center"], "URL"),
        ("scam_x_call", "{hotline.center.fax}に送ってください", ["center"], "no value"),
        ("scam_x_call", "{hotline.center}に電話", ["center"], "no value"),
        ("scam_x_call", "{Hotline.Center}に電話", ["center"], "no value"),
        ("scam_x_call", "{センター}に電話", ["center"], "no value"),
        ("scam_x_call", "{ に電話", ["center"], "braces"),
        ("scam_x_call", ANSWER, ["center", "fraud_desk"], "unknown hotline keys"),
        ("scam_x_call", ANSWER, [], "at least one hotline"),
        ("scam_x_call", "   ", ["center"], "empty"),
    ],
)
def test_new_topic_refusals(project, name, answer, hotlines, expected):
    before = snapshot(project)
    with pytest.raises(Refused) as error:
        teach.new_topic(name, EXAMPLES, answer, hotlines, root=project, who="ito")
    assert expected in error.value.en
    assert error.value.ja and re.search(r"[ぁ-んァ-ン一-龥]", error.value.ja)
    assert snapshot(project) == before
    assert audit.read(project)[-1]["action"] == "refused"


def test_label_refusals(project):
    with pytest.raises(Refused, match="no intent"):
        teach.label("還付金の電話がきた", "scam_refund_call", root=project)
    with pytest.raises(Refused, match="empty"):
        teach.label("😀😀", "faq/unknown_number", root=project)
    with pytest.raises(Refused, match="entity annotation"):
        teach.label("[田中](person)から電話", "faq/unknown_number", root=project)
    with pytest.raises(Refused, match="at least 3 examples"):
        teach.new_topic("scam_x_call", EXAMPLES[:2], ANSWER, ["center"], root=project)


def test_domain_insertion_keeps_the_rest_byte_for_byte():
    text = (ROOT / "chatbot" / "domain.yml").read_text(encoding="utf-8")
    new = teach.domain_with_intent(text, "scam_x_call")
    assert len(new.splitlines()) == len(text.splitlines()) + 1
    data = yaml.safe_load(new)
    assert data["intents"][-1] == "scam_x_call"
    assert {k: v for k, v in data.items() if k != "intents"} == {
        k: v for k, v in yaml.safe_load(text).items() if k != "intents"
    }
    flow = 'version: "3.1"\nintents: [greet, thank]\nentities: []\n'
    with pytest.raises(Refused, match="unexpected layout"):
        teach.domain_with_intent(flow, "scam_x_call")


def test_audit_log_is_append_only_with_offset_in_the_records_database(project):
    audit.record("label", {"intent": "greet"}, who="a", root=project)
    first = audit.read(project)
    with pytest.raises(Refused):
        teach.label("天気", "no_such_intent", root=project, who="b")
    audit.record("rollback", {"live": "x"}, who="c", root=project)
    entries = audit.read(project)
    assert entries[: len(first)] == first
    assert len(entries) == 3
    for entry in entries:
        assert set(entry) == {"time", "who", "action", "details"}
        moment = datetime.fromisoformat(entry["time"])
        assert moment.utcoffset() is not None and entry["time"].endswith("+09:00")
    assert [e["who"] for e in entries] == ["a", "b", "c"]
    assert [e["action"] for e in entries] == ["label", "refused", "rollback"]
    assert audit.read(project, limit=1) == entries[-1:]
    # In the project's own SQLite file (no DATABASE_URL in the tests), one row each.
    assert (project.root / "var" / "records.sqlite").is_file()
    with project.records.connect() as conn:
        rows = conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.id)).all()
    assert [r[0] for r in rows] == ["label", "refused", "rollback"]
    with pytest.raises(ValueError):
        audit.record("delete_everything", {}, root=project)


def test_cli_label_and_audit(project):
    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "staffops", "--root", str(project.root), "--who", "cli", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )

    done = cli(
        "label", "--text", "電話で料金未納と言われボタンを押せと", "--intent", "faq/automated_voice"
    )
    assert done.returncode == 0, done.stderr
    assert "faq/automated_voice" in done.stdout
    refused = cli(
        "label", "--text", "電話で料金未納と言われボタンを押せと", "--intent", "faq/automated_voice"
    )
    assert refused.returncode == 1 and "already an example" in refused.stderr
    log = cli("--json", "audit")
    entries = json.loads(log.stdout)
    assert [e["action"] for e in entries] == ["label", "refused"]
    assert {e["who"] for e in entries} == {"cli"}
