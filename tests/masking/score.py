"""Recall and false masks of soudan.masking on the corpus of this folder.

    python tests/masking/score.py [--no-ner] [--misses]

prints, for corpus.yml (personal data inside messages), the share of items
fully masked, per kind; and for control.yml (ordinary consultation messages)
the share of words that were masked. An item counts as caught only when
every letter and digit of it is inside a masked span (「〈名前〉太郎」 is a
leak). Words are GiNZA's (Sudachi) tokens, punctuation and spaces left out;
a word is wrongly masked when any of its characters is.

Used by tests/test_masking_corpus.py and gateway/tests/test_masking_corpus.py
(the floors: recall ≥ 99 %, false masks ≤ 2 %) and by `make bench-masking`.
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from soudan import masking  # noqa: E402

ITEM = re.compile(r"\{\{(\w+):(.+?)\}\}")
# Characters of an item that must be masked: not spaces, not separators.
SIGNIFICANT = re.compile(r"[^\s\-‐ー－・.,，、。:：/／()（）@＠〒]")


@dataclass
class Item:
    kind: str
    value: str
    start: int
    end: int


@dataclass
class Message:
    text: str
    items: list[Item] = field(default_factory=list)


def parse(marked: str) -> Message:
    """A corpus line without its {{kind:value}} marks, and where each item is."""
    text, items, pos = "", [], 0
    for match in ITEM.finditer(marked):
        text += marked[pos : match.start()]
        kind, value = match.group(1), match.group(2)
        items.append(Item(kind, value, len(text), len(text) + len(value)))
        text += value
        pos = match.end()
    text += marked[pos:]
    return Message(text, items)


def load(name: str) -> list[Message]:
    return [parse(m) for m in yaml.safe_load((HERE / name).read_text("utf-8"))["messages"]]


def load_heldout() -> tuple[list[Message], list[Message]]:
    """heldout.yml: its messages with personal data, and its `control:` lines."""
    messages = yaml.safe_load((HERE / "heldout.yml").read_text("utf-8"))["messages"]
    marked = [parse(m) for m in messages if not m.startswith("control: ")]
    control = [parse(m.removeprefix("control: ")) for m in messages if m.startswith("control: ")]
    return marked, control


def covered(spans: list[tuple[int, int, str]], text: str, start: int, end: int) -> bool:
    for i in range(start, end):
        if SIGNIFICANT.match(text[i]) and not any(s <= i < e for s, e, _ in spans):
            return False
    return True


def words(text: str) -> list[tuple[int, int]]:
    """Word spans (GiNZA's tokenizer when installed; else runs of one script)."""
    nlp = masking._ner_model()
    if nlp is not None:
        doc = nlp.make_doc(text)
        found = [(t.idx, t.idx + len(t.text)) for t in doc]
    else:
        found = [
            m.span() for m in re.finditer(r"[一-龥々]+|[ぁ-ん]+|[ァ-ヶー]+|[A-Za-z0-9]+", text)
        ]
    return [(s, e) for s, e in found if re.search(r"[\w]", text[s:e])]


@dataclass
class Score:
    items: int
    caught: int
    per_kind: dict[str, tuple[int, int]]
    misses: list[tuple[str, str, str]]
    control_words: int
    masked_words: int
    control_messages: int
    changed_messages: int
    false_masks: list[tuple[str, str]]

    @property
    def recall(self) -> float:
        return self.caught / self.items

    @property
    def false_mask_rate(self) -> float:
        return self.masked_words / self.control_words


def score(
    ner: bool = True, corpus: list[Message] | None = None, control: list[Message] | None = None
) -> Score:
    """The figures on corpus.yml and control.yml (or on the messages given)."""
    corpus = load("corpus.yml") if corpus is None else corpus
    control = load("control.yml") if control is None else control
    caught, per_kind, misses = 0, Counter(), Counter()
    missed = []
    for message in corpus:
        spans = masking.mask_spans(message.text, ner=ner)
        for item in message.items:
            per_kind[item.kind] += 1
            if covered(spans, message.text, item.start, item.end):
                caught += 1
            else:
                misses[item.kind] += 1
                missed.append((item.kind, item.value, masking.mask(message.text, ner=ner)))
    total_words = masked_words = changed = 0
    false = []
    for message in control:
        spans = masking.mask_spans(message.text, ner=ner)
        changed += bool(spans)
        for start, end in words(message.text):
            total_words += 1
            if any(not (end <= s or start >= e) for s, e, _ in spans):
                masked_words += 1
                false.append((message.text[start:end], masking.mask(message.text, ner=ner)))
    kinds = {k: (n - misses[k], n) for k, n in sorted(per_kind.items())}
    return Score(
        sum(per_kind.values()), caught, kinds, missed, total_words, masked_words,
        len(control), changed, false,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-ner", action="store_true", help="the rules alone")
    parser.add_argument("--misses", action="store_true", help="list what was missed")
    args = parser.parse_args()
    started = time.perf_counter()
    if not args.no_ner:
        masking._ner_model()
    load_seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    result = score(ner=not args.no_ner)
    seconds = time.perf_counter() - started
    messages = len(load("corpus.yml")) + len(load("control.yml"))
    heldout = score(not args.no_ner, *load_heldout())
    print(f"masking ({'rules only' if args.no_ner else 'rules + GiNZA NER'}):")
    print(f"  recall        {result.caught}/{result.items} items = {result.recall:.1%}")
    for kind, (got, n) in result.per_kind.items():
        print(f"    {kind:12s} {got}/{n}")
    print(
        f"  false masks   {result.masked_words}/{result.control_words} words = "
        f"{result.false_mask_rate:.2%} ({result.changed_messages}/{result.control_messages} "
        "control messages changed)"
    )
    print(
        f"  held out      recall {heldout.caught}/{heldout.items} = {heldout.recall:.1%}, "
        f"false masks {heldout.masked_words}/{heldout.control_words} words = "
        f"{heldout.false_mask_rate:.2%} (written after tuning, never tuned on)"
    )
    if not args.no_ner:
        print(f"  NER model     loaded in {load_seconds:.1f} s; process peak RSS {rss_mb:.0f} MB")
    print(f"  time          {seconds / messages * 1000:.1f} ms per message ({messages} messages)")
    if args.misses:
        for kind, value, masked in result.misses + heldout.misses:
            print(f"  MISSED {kind}: {value}   ← {masked}")
        for word, masked in result.false_masks + heldout.false_masks:
            print(f"  FALSE {word}   ← {masked}")


if __name__ == "__main__":
    main()
