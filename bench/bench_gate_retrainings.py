"""The promotion gate on real retrainings: what it decides, and what the job costs.

    MODEL=models/ginza-<hash>.tar.gz .venv/rasa/bin/python bench/bench_gate_retrainings.py

On copies of the project tree (the work tree is not touched), with the
model `make train` made as the live model:

1. "taught": a staff member labels three messages (staffops.teach.label,
   with `rasa data validate`), and a retraining job runs as from the staff
   page (retrain → evaluate → gate). A real change of the data: the gate
   should accept it.
2. "damaged": the same data with every training example of one intent
   (the catalogue entry faq/automated_voice) removed, retrained and compared. The gate should
   refuse it, naming that intent.

Prints each decision (the command line's table and the Japanese lines the
page shows) and the job's stages in seconds. `--concurrent` trains even
while another `rasa train` runs on the machine. Asserts nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "staff"))
sys.path.insert(0, str(ROOT))

from staffkit import copy_project  # noqa: E402

from staffops import jobs, models, teach  # noqa: E402

DAMAGED = "faq/automated_voice"
TAUGHT = [
    ("知らない番号から毎晩のように着信があって眠れへん、出たほうがええの？", "faq/unknown_number"),
    ("録音された声で未納料金があると言われた、1番を押せって", "faq/automated_voice"),
    ("SNSに悪口を書かれて拡散されてる、どうしたら消せる？", "faq/sns_defamation"),
]


def live_model() -> Path:
    if os.environ.get("MODEL"):
        return Path(os.environ["MODEL"]).resolve()
    made = sorted((ROOT / "models").glob("ginza-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not made:
        sys.exit("no model: run `make train` first (or set MODEL)")
    return made[-1].resolve()


def with_live(project, live: Path) -> None:
    """The live model of the copy: the work tree's (models/live.json names it)."""
    project.models.mkdir(parents=True, exist_ok=True)
    project.live_json.write_text(json.dumps({"live": str(live), "previous": None}))


def remove_intent_examples(project, intent: str) -> int:
    removed = 0
    for path in sorted(project.nlu_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        blocks = data.get("nlu") or []
        kept = [b for b in blocks if b.get("intent") != intent]
        if len(kept) != len(blocks):
            removed += sum(
                x.startswith("- ")
                for b in blocks
                if b.get("intent") == intent
                for x in b["examples"].splitlines()
            )
            data["nlu"] = kept
            path.write_text(
                yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
    return removed


def stage_times(job: dict) -> list[tuple[str, float]]:
    marks = [(m["text"], datetime.fromisoformat(m["time"])) for m in job["messages"]]
    return [
        (text, (end - start).total_seconds())
        for (text, start), (_, end) in itertools.pairwise(marks)
    ]


def show(title: str, comparison: models.Comparison, seconds: float) -> None:
    print(f"\n== {title}: {'ACCEPTED' if comparison.ok else 'REFUSED'} ({seconds:.0f} s)")
    print(comparison.table())
    print("\n".join(f"  {line}" for line in comparison.reasons_ja))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrent", action="store_true")
    parser.add_argument("--keep", help="keep the copies in this folder")
    args = parser.parse_args()
    live = live_model()
    base = Path(args.keep or tempfile.mkdtemp(prefix="bench-gate-"))
    try:
        taught = copy_project(base / "taught")
        with_live(taught, live)
        for text, intent in TAUGHT:
            teach.label(text, intent, root=taught, who="bench")
        started = time.monotonic()
        if args.concurrent:
            candidate = models.retrain(taught, "bench", wait_for_others=False)
            comparison = models.compare(candidate, None, taught)
        else:
            job = jobs.run(jobs.create(taught, "bench")["id"], taught)
            for text, seconds in stage_times(job):
                print(f"  {seconds:6.0f} s  {text}")
            comparison = models.compare(job["result"]["candidate"], None, taught)
        show(
            f"taught {len(TAUGHT)} examples, retrained",
            comparison,
            time.monotonic() - started,
        )

        damaged = copy_project(base / "damaged")
        with_live(damaged, live)
        removed = remove_intent_examples(damaged, DAMAGED)
        started = time.monotonic()
        candidate = models.retrain(damaged, "bench", wait_for_others=not args.concurrent)
        comparison = models.compare(candidate, None, damaged)
        show(
            f"{removed} examples of {DAMAGED} removed, retrained",
            comparison,
            time.monotonic() - started,
        )
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
