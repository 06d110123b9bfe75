"""Start and stop the real servers for the gateway's tests and benchmark.

The action server and Rasa run from the Rasa environment (.venv/rasa, or
RASA_VENV) the way tests/servers.py starts them, here with the Redis
tracker and lock stores (chatbot/endpoints.redis.yml) so that several Rasa
processes serve the same conversations; the gateway runs with uvicorn from
this environment.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

GATEWAY = Path(__file__).resolve().parents[1]
ROOT = GATEWAY.parent
BOT = ROOT / "chatbot"
# Rasa's HTTP API token of the tests' Rasa processes (the gateway sends it).
RASA_TOKEN = secrets.token_urlsafe(24)


def rasa_bin() -> Path:
    venv = Path(os.environ.get("RASA_VENV") or ROOT / ".venv" / "rasa")
    return venv / "bin" / "rasa"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port() -> int:
    """A loopback port where nothing listens (connections are refused)."""
    return free_port()


def wait_until_up(url: str, proc: subprocess.Popen | None, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer in {seconds} s")


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def rasa_redis_env(redis_url: str, key_prefix: str) -> dict[str, str]:
    """The variables of chatbot/endpoints.redis.yml, from a redis:// URL."""
    url = urlsplit(redis_url)
    return {
        "RASA_REDIS_HOST": url.hostname or "localhost",
        "RASA_REDIS_PORT": str(url.port or 6379),
        "RASA_REDIS_DB": url.path.strip("/") or "0",
        "RASA_REDIS_PASSWORD": url.password or "",
        "RASA_REDIS_KEY_PREFIX": key_prefix,
    }


@dataclass
class Stack:
    """The action server and one or more Rasa processes sharing Redis."""

    model: Path
    log_dir: Path
    redis_url: str | None
    key_prefix: str
    now: str | None = None
    actions_port: int = field(default_factory=free_port)
    rasa_ports: list[int] = field(default_factory=list)
    actions: subprocess.Popen | None = None
    rasa: list[subprocess.Popen | None] = field(default_factory=list)

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    def env(self) -> dict[str, str]:
        env = dict(
            os.environ,
            ACTION_ENDPOINT_URL=f"{self.actions_url}/webhook",
            TF_CPP_MIN_LOG_LEVEL="2",
            RASA_TELEMETRY_ENABLED="false",
            # The action server listens on loopback only (rasa_sdk reads SANIC_HOST).
            SANIC_HOST="127.0.0.1",
        )
        if self.redis_url:
            env.update(rasa_redis_env(self.redis_url, self.key_prefix))
        if self.now:
            env["SOUDAN_NOW"] = self.now
        return env

    def _spawn(self, args: list, log_name: str) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / log_name, "a") as log:
            return subprocess.Popen(
                [rasa_bin(), *args], cwd=BOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT
            )

    def start_actions(self, wait: bool = True) -> None:
        self.actions = self._spawn(
            ["run", "actions", "--actions", "actions", "--port", str(self.actions_port)],
            "actions.log",
        )
        if wait:
            wait_until_up(f"{self.actions_url}/health", self.actions, 240)

    def start_rasa(self, index: int, wait: bool = True) -> None:
        while len(self.rasa_ports) <= index:
            self.rasa_ports.append(free_port())
            self.rasa.append(None)
        endpoints = "endpoints.redis.yml" if self.redis_url else "endpoints.yml"
        self.rasa[index] = self._spawn(
            [
                "run",
                "--enable-api",
                "--auth-token",
                RASA_TOKEN,
                "--interface",
                "127.0.0.1",
                "--model",
                str(self.model.resolve()),
                "--port",
                str(self.rasa_ports[index]),
                "--endpoints",
                endpoints,
                "--credentials",
                "credentials.yml",
            ],
            f"rasa-{index + 1}.log",
        )
        if wait:
            self.wait_rasa(index)

    def wait_rasa(self, index: int, seconds: float = 300) -> None:
        wait_until_up(f"{self.rasa_urls[index]}/", self.rasa[index], seconds)

    def stop_rasa(self, index: int) -> None:
        stop(self.rasa[index])

    def stop_actions(self) -> None:
        stop(self.actions)

    def close(self) -> None:
        for proc in [*self.rasa, self.actions]:
            stop(proc)


def start_stack(
    model: Path,
    log_dir: Path,
    redis_url: str | None,
    key_prefix: str,
    rasa_count: int = 1,
    now: str | None = None,
) -> Stack:
    """Start the action server and `rasa_count` Rasa processes (in parallel)."""
    stack = Stack(model=model, log_dir=log_dir, redis_url=redis_url, key_prefix=key_prefix, now=now)
    try:
        stack.start_actions(wait=False)
        for index in range(rasa_count):
            stack.start_rasa(index, wait=False)
        wait_until_up(f"{stack.actions_url}/health", stack.actions, 240)
        for index in range(rasa_count):
            stack.wait_rasa(index)
    except BaseException:
        stack.close()
        raise
    return stack


def start_gateway(env: dict[str, str], log_path: Path, port: int | None = None):
    """The gateway under uvicorn; returns (process, base URL)."""
    port = port or free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                # Forwarded headers are the app's to trust (TRUSTED_PROXIES).
                "--no-proxy-headers",
            ],
            cwd=GATEWAY,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/health-check/live", proc, 120)
    except BaseException:
        stop(proc)
        raise
    return proc, url
