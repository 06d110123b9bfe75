"""CPU cost of one message at turns 10, 100 and 300 of one conversation.

A LINE user keeps one conversation for weeks. This plays 300 turns of one
conversation against the real Rasa and action server, with each tracker
store of the project (the SQLite default and Redis), and prints the CPU-ms
that Rasa and the action server spent on a message around turns 10, 100 and
300 (the mean of 5 messages, from /proc/<pid>/stat), and the wall time.

    make bench-conversation        (MODEL is set by make)

Target (issue: flat cost in long conversations): no growth from turn 10 to
turn 300. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import secrets
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
from servers import free_port, wait_until_up  # noqa: E402

BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")
TURNS = 300
MARKS = (10, 100, 300)
WINDOW = 5
# A conversation as people have it: topics, follow-ups, small talk.
MESSAGES = [
    "知らない番号から電話がかかってきました",
    "どこに相談すればいいですか",
    "それってお金かかりますか",
    "土曜日もやってる？",
    "警察を名乗る電話で逮捕されると言われた",
    "これ出ても大丈夫？",
    "ありがとう",
    "SNSで悪口を書かれた",
    "どうしたらいい？",
    "0570から始まる番号って何？",
]


def cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / TICKS


def start(model: str, endpoints: str, env: dict[str, str], logs: Path):
    rasa_port, actions_port = free_port(), free_port()
    env = dict(
        os.environ,
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        **env,
    )
    bot = ROOT / "chatbot"
    logs.mkdir(parents=True, exist_ok=True)
    actions = subprocess.Popen(
        [BIN / "rasa", "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        cwd=bot,
        env=env,
        stdout=open(logs / "actions.log", "w"),
        stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        [
            BIN / "rasa",
            "run",
            "--model",
            str(Path(model).resolve()),
            "--port",
            str(rasa_port),
            "--endpoints",
            endpoints,
            "--credentials",
            "credentials.yml",
        ],
        cwd=bot,
        env=env,
        stdout=open(logs / "rasa.log", "w"),
        stderr=subprocess.STDOUT,
    )
    wait_until_up(f"http://127.0.0.1:{actions_port}/health", actions, 60)
    wait_until_up(f"http://127.0.0.1:{rasa_port}/", rasa, 300)  # / answers without --enable-api
    return f"http://127.0.0.1:{rasa_port}", rasa, actions


def play(url: str, pids: list[int]) -> dict[int, tuple[float, float]]:
    """(CPU-ms, wall-ms) per message around each mark."""
    sender = "bench-" + uuid.uuid4().hex
    http = httpx.Client(timeout=60)
    per_turn = []
    for turn in range(1, TURNS + 1):
        text = MESSAGES[turn % len(MESSAGES)]
        before = sum(cpu_ms(p) for p in pids)
        start_wall = time.perf_counter()
        resp = http.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
        resp.raise_for_status()
        wall = (time.perf_counter() - start_wall) * 1000
        per_turn.append((sum(cpu_ms(p) for p in pids) - before, wall))
    out = {}
    for mark in MARKS:
        window = per_turn[max(0, mark - WINDOW) : mark]
        out[mark] = (
            statistics.mean(c for c, _ in window),
            statistics.mean(w for _, w in window),
        )
    return out


def main() -> int:
    model = os.environ.get("MODEL")
    if not model or not Path(model).is_file():
        print("MODEL must name a trained model (make bench-conversation sets it)")
        return 2
    prefix = "benchconv" + secrets.token_hex(3)
    stores = {
        "SQLite (default)": ("endpoints.yml", {}),
        "Redis": (
            "endpoints.redis.yml",
            {
                "RASA_REDIS_HOST": "127.0.0.1",
                "RASA_REDIS_PORT": "6379",
                "RASA_REDIS_DB": "13",
                "RASA_REDIS_PASSWORD": "",
                "RASA_REDIS_KEY_PREFIX": prefix,
            },
        ),
    }
    print(f"One conversation of {TURNS} turns; CPU-ms of Rasa + actions per message")
    print(f"(mean of the {WINDOW} messages up to each turn), and wall-ms.")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (endpoints, env) in stores.items():
            env = {**env, "RASA_TRACKER_DB": str(Path(tmp) / "tracker.sqlite")}
            url, rasa, actions = start(
                model, endpoints, env, ROOT / "results" / "bench-conversation"
            )
            try:
                figures = play(url, [rasa.pid, actions.pid])
            finally:
                for proc in (rasa, actions):
                    proc.terminate()
                    proc.wait(timeout=30)
            cells = "  ".join(
                f"turn {mark}: {cpu:6.1f} CPU-ms {wall:6.1f} ms"
                for mark, (cpu, wall) in figures.items()
            )
            print(f"{name:18} {cells}")
    try:
        import redis

        client = redis.Redis(db=13)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    except Exception:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
