"""The training data and the held-out set: sizes, and no overlap between them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from soudan.normalize import normalize

BOT = Path(__file__).resolve().parent.parent / "chatbot"
# Intents whose paraphrases the issue asks for (every topic the bot answers).
MIN_TRAINING = 25
MIN_HELDOUT = 10


def examples(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in data.get("nlu", []):
        for line in block["examples"].splitlines():
            if line.strip().startswith("- "):
                pairs.append((block["intent"], line.strip()[2:].strip()))
    return pairs


def training() -> list[tuple[str, str]]:
    return [p for f in sorted((BOT / "data" / "nlu").glob("*.yml")) for p in examples(f)]


def heldout() -> list[tuple[str, str]]:
    return examples(BOT / "heldout" / "nlu.yml")


def domain_intents() -> set[str]:
    return set(yaml.safe_load((BOT / "domain.yml").read_text(encoding="utf-8"))["intents"])


def test_every_intent_has_enough_varied_training_examples():
    counts = Counter(intent for intent, _ in training())
    assert set(counts) == domain_intents()
    assert {i: n for i, n in counts.items() if n < MIN_TRAINING} == {}


def test_heldout_covers_every_intent_and_has_200_messages():
    items = heldout()
    counts = Counter(intent for intent, _ in items)
    assert set(counts) == domain_intents()
    assert min(counts.values()) >= MIN_HELDOUT
    assert len(items) >= 200


def test_no_heldout_message_is_in_the_training_data():
    trained = {normalize(text) for _, text in training()}
    assert [t for _, t in heldout() if normalize(t) in trained] == []


def test_no_message_has_two_labels():
    labels: dict[str, set[str]] = {}
    for intent, text in training():
        labels.setdefault(normalize(text), set()).add(intent)
    assert {t: i for t, i in labels.items() if len(i) > 1} == {}
