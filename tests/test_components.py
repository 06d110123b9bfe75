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
