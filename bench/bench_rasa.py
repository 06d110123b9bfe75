"""Benchmark of the Rasa assistant: training time, start-up time, resident
memory of Rasa and the action server, and per-message latency (p50/p95)
over the held-out set through the REST channel, one message at a time.

    make bench            (MODEL is set by make)

Targets on the project's machines (2 cores), with the landscape catalogue:
training <= 5 min, p95 <= 60 ms sequential, no more memory than before the
catalogue (Rasa 1.5 GB, action server 0.3 GB). Prints figures, with the CPU
time Rasa and the action server spent per message; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402
from servers import running_assistant  # noqa: E402

BIN = Path(sys.executable).parent


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def heldout_texts() -> list[str]:
    import yaml

    data = yaml.safe_load((ROOT / "chatbot" / "heldout" / "nlu.yml").read_text(encoding="utf-8"))
    return [
        line[2:].strip()
        for item in data["nlu"]
        for line in item["examples"].splitlines()
        if line.startswith("- ")
    ]


def bench_training() -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.monotonic()
        subprocess.run(
            [BIN / "rasa", "train", "--config", "config.yml", "--out", out, "--force"],
            cwd=ROOT / "chatbot",
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.monotonic() - start


def main() -> None:
    model = os.environ["MODEL"]
    print("== Rasa assistant benchmark (2-core machine)")
    if "--no-train" not in sys.argv:
        print(f"training time (rasa train --force): {bench_training():.1f} s   target <= 300 s")
    start = time.monotonic()
    with running_assistant(model, ROOT / "results" / "bench-logs") as assistant:
        print(f"server start time (actions + Rasa until /status): {time.monotonic() - start:.1f} s")
        url = assistant.url
        texts = heldout_texts()
        client = httpx.Client(timeout=30)
        for text in texts[:10]:  # warm-up
            client.post(f"{url}/webhooks/rest/webhook", json={"sender": "warm", "message": text})
        latencies = []
        pids = [assistant.rasa_pid, assistant.actions_pid]
        cpu_before = sum(cpu_ms(p) for p in pids)
        for text in texts:
            t0 = time.perf_counter()
            resp = client.post(
                f"{url}/webhooks/rest/webhook", json={"sender": uuid.uuid4().hex, "message": text}
            )
            latencies.append((time.perf_counter() - t0) * 1000)
            resp.raise_for_status()
        cpu_per_message = (sum(cpu_ms(p) for p in pids) - cpu_before) / len(latencies)
        print(f"messages: {len(latencies)} held-out messages, sequential, new conversation each")
        print(
            f"latency p50: {statistics.median(latencies):.1f} ms   "
            f"p95: {percentile(latencies, 0.95):.1f} ms   max: {max(latencies):.1f} ms"
            "   target p95 <= 60 ms"
        )
        print(f"CPU per message (Rasa + action server): {cpu_per_message:.1f} ms")
        print(
            f"resident memory: Rasa {rss_mb(assistant.rasa_pid):.0f} MB, "
            f"action server {rss_mb(assistant.actions_pid):.0f} MB"
        )


if __name__ == "__main__":
    main()
