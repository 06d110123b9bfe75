"""Benchmark of the promotion gate's own cost: the paired bootstrap and the decision.

    .venv/rasa/bin/python bench/bench_gate.py      (or the gateway's Python: no numpy needed)

The gate runs inside a staff retraining job, after the training and the
evaluation of the candidate; it must add seconds, not minutes. Synthetic
predictions (each message wrong with 6 %, the rate two seeds of this
project disagree at) in sets the size of today's held-out set (384
messages, 33 intents) and of the landscape catalogue (≈1,350 held-out
messages and a 560-message blind set, 90 labels). Prints the seconds per
decision (2,000 resamples). Asserts nothing.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from staffops import gate


def paired_set(name: str, labels: int, per_label: int, rng: random.Random) -> gate.PairedSet:
    names = [f"intent_{i:02d}" for i in range(labels)]
    gold = [n for n in names for _ in range(per_label)]

    def model() -> list[str]:
        return [rng.choice(names) if rng.random() < 0.06 else g for g in gold]

    return gate.PairedSet(name, gold, model(), model())


def main() -> None:
    rng = random.Random(1)
    cases = {
        "today: held-out 384 messages, 33 intents": [
            paired_set("chatbot/heldout/nlu.yml", 33, 12, rng)
        ],
        "landscape: held-out 1,350 + blind 560 messages, 90 labels": [
            paired_set("chatbot/heldout/nlu.yml", 90, 15, rng),
            paired_set("chatbot/blind/firstturn.yml", 90, 6, rng),
        ],
    }
    print(
        f"promotion gate, {gate.RESAMPLES} paired resamples per set (Python {sys.version.split()[0]})"
    )
    for what, sets in cases.items():
        times = []
        for _ in range(3):
            started = time.perf_counter()
            decision = gate.decide(sets)
            times.append(time.perf_counter() - started)
        print(
            f"  {what}: {min(times):.2f} s per decision (best of 3), "
            f"{decision.tests} figures judged, z {decision.z:.2f}"
        )


if __name__ == "__main__":
    main()
