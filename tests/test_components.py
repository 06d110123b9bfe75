"""GiNZA loaded with only its tokenizer and vectors gives the pipeline the
same tokens, lemmas and vectors as the full ja_ginza (chatbot/components/ginza.py)."""

from __future__ import annotations

import numpy as np
import pytest
import spacy
from components.ginza import UNUSED_PIPES, GinzaNLP

TEXTS = [
    "知らない番号から何回も電話がかかってくるんですが、出たほうがいいですか？",
    "しらないばんごうからでんわ",
    "２０２０年７月１０日に相談してたら無料やったん？",
    "自動音声で料金未納のため二時間後に電話が使えなくなりますと言われました",
    "はい",
]


@pytest.fixture(scope="module")
def models():
    full = spacy.load("ja_ginza", disable=["parser"])  # what Rasa's SpacyNLP loads
    lite = GinzaNLP.load_model("ja_ginza").model
    return full, lite


def test_only_the_tokenizer_and_vectors_are_loaded(models):
    _, lite = models
    assert lite.pipe_names == []
    assert not set(UNUSED_PIPES) & set(lite.pipe_names)


@pytest.mark.parametrize("text", TEXTS)
def test_same_tokens_lemmas_and_vectors(models, text):
    full, lite = models
    a, b = full(text), lite(text)
    assert [t.text for t in a] == [t.text for t in b]
    assert [t.lemma_ for t in a] == [t.lemma_ for t in b]
    assert np.array_equal(a.vector, b.vector)
    assert all(np.array_equal(x.vector, y.vector) for x, y in zip(a, b, strict=True))


def _message(text: str, intent: str, confidence: float):
    from rasa.shared.nlu.training_data.message import Message

    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}], add_to_output=True)
    return message


@pytest.mark.parametrize(
    "text, intent",
    [
        ("いまATMの前にいて電話で言われたとおり操作してる", "faq"),
        ("銀行協会の人が今から家に来るそうです", "nlu_fallback"),
        ("誰にも言うなって言われて電話つないだままです", "affirm"),
    ],
)
def test_a_crime_in_progress_overrides_any_reading(text, intent):
    from components.urgent_override import UrgentOverride

    (message,) = UrgentOverride().process([_message(text, intent, 0.8)])
    assert message.get("intent") == {"name": "crime_in_progress", "confidence": 1.0}
    assert message.get("intent_ranking")[0]["name"] == "crime_in_progress"
    assert message.get("intent_ranking")[1]["name"] == intent


@pytest.mark.parametrize("text", ["知らない番号から電話があった", '/faq{"entry":"card_swap"}'])
def test_other_messages_keep_their_reading(text):
    from components.urgent_override import UrgentOverride

    (message,) = UrgentOverride().process([_message(text, "faq", 0.8)])
    assert message.get("intent")["name"] == "faq"


def test_prefixes_are_entities_next_to_numbers():
    from components.caller_numbers import CallerNumberExtractor
    from rasa.shared.nlu.training_data.message import Message

    message = Message(data={"text": "0120-123-456から電話がきた、0570って何"})
    (message,) = CallerNumberExtractor().process([message])
    found = {(e["entity"], e["value"]) for e in message.get("entities")}
    assert found == {("phone_number", "0120-123-456"), ("number_prefix", "0570")}
