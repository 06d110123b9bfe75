"""New FAQ entries from the staff pages: facts picked by Japanese name, typed
numbers refused with a Japanese reason, the id generated, the title kept."""

from __future__ import annotations

import pytest
import yaml
from staffkit import ROOT  # noqa: F401  (puts the project on the path, as the other tests)

from soudan.knowledge import known_numbers, render
from staffops import facts, labels, teach
from staffops.errors import Refused


def test_every_phone_number_of_the_knowledge_file_can_be_picked(project):
    known = facts.facts(project)
    picked = {f.value for f in known if f.path.endswith("number")}
    assert known_numbers() <= picked
    # one label per fact, Japanese, and the bot's renderer fills each placeholder
    assert len({f.label for f in known}) == len(known)
    for fact in known:
        assert not fact.label.isascii()
        assert render("{" + fact.path + "}") == fact.value


def test_picked_facts_become_placeholders_and_back(project):
    known = facts.facts(project)
    center = next(f for f in known if f.path == "hotline.center.number")
    text = f"まず{center.token}に電話してください。"
    saved = facts.staff_answer(text, known)
    assert saved == "まず{hotline.center.number}に電話してください。"
    assert render(saved) == f"まず{center.value}に電話してください。"
    assert facts.to_labels(saved, known) == text


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (
            "｛警察の秘密の番号｝にかけてください",
            "「｛警察の秘密の番号｝」という差し込みはありません",
        ),
        ("03-6162-1111 にかけてください", "「でんわんセンターの電話番号」を選んでください"),
        (
            "０３－１２３４－５６７８ にかけてください",
            "知識ファイル（soudan/knowledge.yml）にない番号です",
        ),
        ("相談は3000円です", "回答文に数字は直接書けません"),
    ],
)
def test_what_staff_cannot_type_is_refused_in_japanese(project, answer, says):
    with pytest.raises(Refused) as refused:
        facts.staff_answer(answer, facts.facts(project))
    assert says in refused.value.ja


def test_a_new_topic_gets_a_generated_id_and_keeps_its_title(project):
    known = facts.facts(project)
    answer = facts.staff_answer(
        "還付金の手続きでATMに行くよう求める電話は詐欺です。｛でんわんセンターの電話番号｝に相談してください。",
        known,
    )
    examples = [
        "市役所から還付金があると電話がきた",
        "医療費の払い戻しがあるのでATMに行けと言われた",
        "還付金の手続きをするから銀行に行ってと電話で言われた",
    ]
    assert teach.generated_name(project) == "staff_topic_001"
    change = teach.new_topic(
        None, examples, answer, ["center"], title="還付金の電話", root=project, validate=False
    )
    assert change.intent == "staff_topic_001"
    assert teach.generated_name(project) == "staff_topic_002"
    saved = yaml.safe_load(project.staff_answers.read_text(encoding="utf-8"))
    assert saved["staff_topic_001"]["label"] == "還付金の電話"
    # staff pages name it by its title, with the answer's first line as its description
    assert labels.labeller(project)("staff_topic_001") == "還付金の電話"
    assert labels.describer(project)("staff_topic_001").startswith("還付金の手続きでATMに")
    with pytest.raises(Refused) as refused:
        teach.new_topic(None, examples, answer, ["center"], title="", root=project, validate=False)
    assert "話題の名前" in refused.value.ja
