"""Benchmark of the staff retraining loop: from "retrain" to the new model answering.

    MODEL=models/ginza-<hash>.tar.gz .venv/rasa/bin/python bench/bench_retrain.py

On a copy of the project tree (the work tree is not touched): a staff label
is added, Rasa is started (with --enable-api) on the live model, and then
the clock runs through what `python -m staffops retrain --wait --rasa-url
...` does — retrain into models/candidates/, evaluate the candidate and the
live model on the held-out set, compare, promote (PUT /model) — until the
server answers a parse with the new model file. The promotion is forced
(override reason "benchmark"), so that a comparison that refuses still
gives a figure. Prints the stages and the total; target <= 4 minutes on the
project's machines (2 cores). Asserts nothing.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "staff"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from servers import running_assistant  # noqa: E402
from staffkit import copy_project  # noqa: E402

from staffops import jobs, teach  # noqa: E402

TARGET_S = 240
TAUGHT = "知らない番号から毎晩のように着信があって眠れへん、出たほうがええの？"


def live_model() -> Path:
    if os.environ.get("MODEL"):
        return Path(os.environ["MODEL"])
    made = sorted((ROOT / "models").glob("ginza-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not made:
        sys.exit("no model: run `make train` first (or set MODEL)")
    return made[-1]


def stage_times(job: dict) -> list[tuple[str, float]]:
    """Seconds between the job's messages (their times have a one-second resolution)."""
    marks = [(m["text"], datetime.fromisoformat(m["time"])) for m in job["messages"]]
    out = []
    for (text, start), (_, end) in itertools.pairwise(marks):
        out.append((text, (end - start).total_seconds()))
    return out


def main() -> None:
    print("== Staff retraining benchmark (2-core machine)")
    with tempfile.TemporaryDirectory(prefix="bench-retrain-") as tmp:
        project = copy_project(Path(tmp) / "project")
        live = project.models / live_model().name
        live.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(live_model(), live)

        t0 = time.monotonic()
        teach.label(TAUGHT, "faq_unknown_number", root=project, who="bench")
        print(f"label one example (with rasa data validate): {time.monotonic() - t0:.1f} s")

        t0 = time.monotonic()
        with running_assistant(str(live), Path(tmp) / "logs") as assistant:
            url = assistant.url
            print(f"server start (actions + Rasa until /status): {time.monotonic() - t0:.1f} s")
            client = httpx.Client(timeout=60)

            start = time.monotonic()
            job = jobs.create(project, "bench", rasa_urls=[url], override="benchmark")
            job = jobs.run(job["id"], project)
            promoted = time.monotonic()
            result = job.get("result") or {}
            if result.get("outcome") != "promoted":
                sys.exit(f"the job did not promote: {result}")
            candidate = Path(result["candidate"]).name
            while True:
                status = client.get(f"{url}/status").json()
                if status["model_file"] == candidate:
                    parsed = client.post(f"{url}/model/parse", json={"text": TAUGHT})
                    if parsed.status_code == 200:
                        break
                time.sleep(0.2)
            answered = time.monotonic()

        for text, seconds in stage_times(job):
            print(f"  {seconds:6.0f} s  {text}")
        comparison = result["comparison"]
        print(
            f"compare: {'OK' if comparison['ok'] else 'would refuse'} "
            f"({'; '.join(comparison['reasons'])})"
        )
        print(f"intent of the taught message: {parsed.json()['intent']['name']}")
        total = answered - start
        print(
            f"retrain → new model answering: {total:.1f} s "
            f"(job {promoted - start:.1f} s + first parse {answered - promoted:.1f} s)"
            f"   target <= {TARGET_S} s"
        )


if __name__ == "__main__":
    main()
