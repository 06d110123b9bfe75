"""The knowledge file is complete, sourced, and the only place facts live."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from phone_check import phone_like

from soudan import knowledge as kb
from soudan.catalogue import is_entry
from soudan.dialogue import COMPUTED
from soudan.hours import JST
from soudan.replies import compose

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DOMAIN = yaml.safe_load((ROOT / "chatbot" / "domain.yml").read_text(encoding="utf-8"))
MOMENTS = [datetime(2026, 11, 24, 12, 0, tzinfo=JST), datetime(2026, 11, 28, 20, 0, tzinfo=JST)]


def test_every_domain_intent_has_an_answer():
    missing = [i for i in DOMAIN["intents"] if i not in kb.answers() and i not in COMPUTED]
    assert missing == []


def reply_intents() -> list[str]:
    return [i for i in kb.answer_intents() if "text" in kb.answers()[i]]


@pytest.mark.parametrize("intent", reply_intents())
def test_answer_renders_without_unresolved_placeholders(intent):
    reply = kb.reply_for(intent)
    assert reply.text.strip()
    for moment in MOMENTS:
        text = compose(reply, moment, meanwhile=True)
        assert "{" not in text and "}" not in text
    for button in reply.buttons:
        assert button.intent in DOMAIN["intents"] or is_entry(button.intent), button


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def test_answer_copy_holds_no_digits_or_urls():
    """Numbers, hours, prices, dates and URLs come from knowledge.yml only."""
    for intent, spec in kb.answers().items():
        for text in _strings(spec):
            copy = kb.PLACEHOLDER.sub("", text)
            assert not re.search(r"\d|[０-９]", copy), (intent, copy)
            assert "http" not in copy and "www." not in copy, intent


def test_unknown_placeholder_is_an_error():
    with pytest.raises(kb.KnowledgeError):
        kb.render("{hotline.center.fax}")
    with pytest.raises(kb.KnowledgeError):
        kb.render("{hotline.center}")


@pytest.mark.parametrize("intent", reply_intents())
def test_no_reply_carries_an_unknown_phone_number(intent):
    known = kb.known_numbers()
    for moment in MOMENTS:
        found = phone_like(compose(kb.reply_for(intent), moment, meanwhile=True))
        assert found <= known, found - known


def test_phone_check_catches_unknown_numbers():
    text = "こちらへ 03-1234-5678 または ０１２０－９９９－９９９、#7777、119番"
    found = phone_like(text)
    assert {"03-1234-5678", "0120-999-999", "#7777", "119"} <= found
    assert not found <= kb.known_numbers()


def test_every_entry_names_a_known_source():
    data = kb.knowledge()
    sources = data["sources"]
    for key, spec in kb.knowledge()["hotlines"].items():
        assert kb.hotline(key).source in sources
        assert set(spec.get("sources") or []) <= set(sources), key
    for key, spec in data["web_services"].items():
        assert spec["sources"] and set(spec["sources"]) <= set(sources), key
    for section in ("year_end_closure", "center", "rules", "advice", "intl_stop", "docomo"):
        assert data[section]["source"] in sources, section


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/ is not beside the checkout")
def test_sources_exist_and_hold_the_numbers():
    sources = kb.knowledge()["sources"]
    for source in sources.values():
        assert (ROOT.parent / source["file"]).is_file(), source["file"]
    for line in kb.hotlines():
        text = dashes((ROOT.parent / sources[line.source]["file"]).read_text(encoding="utf-8"))
        assert line.number in text, (line.key, line.number)
        if line.alt_number:
            assert line.alt_number in text, (line.key, line.alt_number)


def dashes(text: str) -> str:
    """Sources write numbers with any of the dashes; the knowledge file with '-'."""
    return re.sub("[‐‑‒–—―−－]", "-", text)


def test_key_facts_match_the_sources():
    """Spot checks against shared/facts.md, so a typo in knowledge.yml fails."""
    assert kb.hotline("center").number == "03-6162-1111"
    assert kb.hotline("center").schedule["open"] == "10:00"
    assert kb.hotline("center").schedule["close"] == "17:00"
    assert kb.hotline("docomo_support").number == "0120-221-360"
    assert kb.hotline("docomo_support").schedule["close"] == "18:00"
    assert kb.hotline("intl_stop").number == "0120-210-364"
    docomo = kb.knowledge()["docomo"]
    assert str(docomo["free_trial"]["from"]) == "2020-07-01"
    assert str(docomo["free_trial"]["until"]) == "2020-08-31"
    assert str(docomo["free_articles"]["until"]) == "2020-07-31"
    assert docomo["fraud_cover"]["cap_yen"] == 1_000_000
    assert "500円" in docomo["price"] and "税抜" in docomo["price"]


def test_tel_uri_escapes_hash():
    assert kb.hotline("police_consult").tel_uri == "tel:%239110"
    assert kb.hotline("center").tel_uri == "tel:0361621111"


def _fact_files():
    for folder in ("chatbot", "soudan", "scripts", "gateway", "bench"):
        for path in (ROOT / folder).rglob("*"):
            if not path.is_file() or path.suffix not in {
                ".py",
                ".yml",
                ".yaml",
                ".html",
                ".js",
                ".json",
                ".md",
            }:
                continue
            rel = path.relative_to(ROOT)
            # knowledge.yml is the one place; NLU data and test stories are user text.
            if path.name == "knowledge.yml" or rel.parts[:2] in {
                ("chatbot", "data"),
                ("chatbot", "heldout"),
                ("chatbot", "tests"),
                ("chatbot", "blind"),
                ("chatbot", "dev"),
            }:
                continue
            if "tests" in rel.parts or ".venv" in rel.parts:
                continue
            yield path


def test_phone_numbers_live_only_in_the_knowledge_file():
    numbers = kb.known_numbers() | {kb.hotline(h.key).tel for h in kb.hotlines()}
    long_numbers = {n for n in numbers if len(re.sub(r"\D", "", n)) >= 4}
    offenders = []
    for path in _fact_files():
        text = path.read_text(encoding="utf-8", errors="ignore")
        offenders += [(str(path.relative_to(ROOT)), n) for n in long_numbers if n in text]
        offenders += [
            (str(path.relative_to(ROOT)), n) for n in re.findall(r"0\d{1,4}-\d{2,4}-\d{3,4}", text)
        ]
    assert offenders == []
