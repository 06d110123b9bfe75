"""Start the real action server and Rasa for tests and benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# The live tests' clock (SOUDAN_NOW of the action server): a Saturday
# evening, when every staffed line is closed.
SATURDAY_NIGHT = "2026-11-28T20:00:00+09:00"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {seconds} s")


@dataclass
class Assistant:
    url: str  # Rasa's base URL
    rasa_pid: int
    actions_pid: int


@contextmanager
def running_assistant(model: str, log_dir: Path, now: str | None = None, token: str | None = None):
    """Yield a running Rasa with its action server, both on 127.0.0.1 only
    (as `make run` starts them).

    `now` pins the action server's clock (SOUDAN_NOW, ISO 8601 with offset).
    `token`: Rasa's HTTP API needs it (`--auth-token`, `?token=`), as with
    `make run`; None leaves the API open to this machine (staffops' tests).
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    rasa_port, actions_port = free_port(), free_port()
    env = dict(
        os.environ,
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        SANIC_HOST="127.0.0.1",  # rasa_sdk's bind address
    )
    if now:
        env["SOUDAN_NOW"] = now
    bot = ROOT / "chatbot"
    procs = []
    try:
        with open(log_dir / "actions.log", "w") as alog, open(log_dir / "rasa.log", "w") as rlog:
            procs.append(
                subprocess.Popen(
                    [
                        BIN / "rasa",
                        "run",
                        "actions",
                        "--actions",
                        "actions",
                        "--port",
                        str(actions_port),
                    ],
                    cwd=bot,
                    env=env,
                    stdout=alog,
                    stderr=subprocess.STDOUT,
                )
            )
            procs.append(
                subprocess.Popen(
                    [
                        BIN / "rasa",
                        "run",
                        "--model",
                        str(Path(model).resolve()),
                        "--enable-api",
                        "--interface",
                        "127.0.0.1",
                        *(["--auth-token", token] if token else []),
                        "--port",
                        str(rasa_port),
                        "--endpoints",
                        "endpoints.yml",
                        "--credentials",
                        "credentials.yml",
                    ],
                    cwd=bot,
                    env=env,
                    stdout=rlog,
                    stderr=subprocess.STDOUT,
                )
            )
            wait_until_up(f"http://127.0.0.1:{actions_port}/health", procs[0], 180)
            # "/" answers without the token ("/status" needs it when one is set).
            wait_until_up(f"http://127.0.0.1:{rasa_port}/", procs[1], 240)
            yield Assistant(f"http://127.0.0.1:{rasa_port}", procs[1].pid, procs[0].pid)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
