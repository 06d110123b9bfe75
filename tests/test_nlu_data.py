"""The training data and the held-out set: sizes, and no overlap between them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from soudan.catalogue import RETRIEVAL_INTENT, entries
from soudan.normalize import normalize

BOT = Path(__file__).resolve().parent.parent / "chatbot"
# Catalogue entries: at least 40 varied examples each, from several writers
# (the landscape issue); other intents at least 25.
MIN_ENTRY_TRAINING = 40
MIN_TRAINING = 25
MIN_HELDOUT = 6


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


def labels() -> set[str]:
    """Every label the NLU learns: the domain's intents, the catalogue as faq/<entry>."""
    intents = set(yaml.safe_load((BOT / "domain.yml").read_text(encoding="utf-8"))["intents"])
    return (intents - {RETRIEVAL_INTENT}) | {f"{RETRIEVAL_INTENT}/{k}" for k in entries()}


def test_every_label_has_enough_varied_training_examples():
    counts = Counter(intent for intent, _ in training())
    assert set(counts) == labels()
    low = {
        i: n
        for i, n in counts.items()
        if n < (MIN_ENTRY_TRAINING if i.startswith(f"{RETRIEVAL_INTENT}/") else MIN_TRAINING)
    }
    assert low == {}


def test_heldout_covers_every_label_and_has_1000_messages():
    items = heldout()
    counts = Counter(intent for intent, _ in items)
    assert set(counts) == labels()
    assert min(counts.values()) >= MIN_HELDOUT
    assert len(items) >= 1000


def test_no_heldout_message_is_in_the_training_data():
    trained = {normalize(text) for _, text in training()}
    assert [t for _, t in heldout() if normalize(t) in trained] == []


def test_no_message_has_two_labels():
    labels: dict[str, set[str]] = {}
    for intent, text in training():
        labels.setdefault(normalize(text), set()).add(intent)
    assert {t: i for t, i in labels.items() if len(i) > 1} == {}


def test_the_conversation_stories_are_generated_from_the_spec():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, str(root / "scripts" / "conversation_stories.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout
