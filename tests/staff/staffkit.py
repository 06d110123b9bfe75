"""Helpers of the staff tools' tests (a copy of the project tree, a worse training set, a Rasa)."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

from staffops.project import Project

ROOT = Path(__file__).resolve().parents[2]
# What a copy needs: the Rasa project, soudan's data, the evaluation script.
COPIED = ["chatbot", "soudan", "scripts", "requirements", "pyproject.toml"]
IGNORED = shutil.ignore_patterns(".rasa", "__pycache__", "*.pyc", "staff", "results", "*.egg-info")
# Work-tree files the tools write; they must be the same after the tests.
GUARDED = [
    "chatbot/data",
    "chatbot/domain.yml",
    "chatbot/staff",
    "soudan/answers.yml",
    "soudan/answers_staff.yml",
    "soudan/knowledge.yml",
    "models/live.json",
    "models/candidates",
]
# Three intents the worse model hardly knows (two examples each instead of 25+).
WEAKENED = {"faq/automated_voice": 2, "faq/number_starts_with_9": 2, "faq/damage_done": 2}


def copy_project(dest: Path) -> Project:
    dest.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=IGNORED)
        else:
            shutil.copy2(source, dest / name)
    return Project.at(dest)


def tree_digest(paths=GUARDED) -> dict[str, str]:
    found = {}
    for rel in paths:
        path = ROOT / rel
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                found[str(file.relative_to(ROOT))] = hashlib.sha256(file.read_bytes()).hexdigest()
    return found


# The fast path of the trainings in tests: this many examples of each label, and
# this many epochs. A full training of ~6,000 examples takes minutes on 2 cores;
# the staff tools' tests check what the tools do with a model, not its quality.
SMALL_EXAMPLES = 12
SMALL_EPOCHS = 12


def small_training(project: Project) -> None:
    """Make the copy quick to train: SMALL_EXAMPLES examples per label, SMALL_EPOCHS epochs."""
    labels = {
        block["intent"]
        for path in project.nlu_dir.glob("*.yml")
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or [])
        if block.get("intent")
    }
    fewer_examples(project, dict.fromkeys(labels, SMALL_EXAMPLES))
    config = project.chatbot / "config.yml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    for component in data["pipeline"]:
        if "epochs" in component:
            component["epochs"] = SMALL_EPOCHS
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def fewer_examples(project: Project, intents: dict[str, int]) -> None:
    """Keep only the first n training examples of each given intent (for a worse model)."""
    for path in sorted(project.nlu_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        changed = False
        for block in data.get("nlu") or []:
            if block.get("intent") in intents:
                lines = [x for x in block["examples"].splitlines() if x.startswith("-")]
                block["examples"] = "\n".join(lines[: intents[block["intent"]]]) + "\n"
                changed = True
        if changed:
            path.write_text(
                yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )


@contextmanager
def running_rasa(model: Path, log_dir: Path, token: str | None = None):
    """Rasa alone (no action server: promotion only loads models), with --enable-api and,
    given a token, --auth-token; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "rasa"),
        *("run", "--model", str(Path(model).resolve()), "--enable-api"),
        *("--port", str(port), "--credentials", "credentials.yml"),
    ]
    if token:
        command += ["--auth-token", token]
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        ACTION_ENDPOINT_URL="http://127.0.0.1:9/webhook",  # no action server: none is called
    )
    env.pop("RASA_TOKEN", None)
    with open(log_dir / "rasa.log", "w") as log:
        proc = subprocess.Popen(
            command, cwd=ROOT / "chatbot", env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:  # "/" answers without a token
            if proc.poll() is not None:
                raise RuntimeError(f"rasa exited with {proc.returncode}; see {log_dir}")
            try:
                if httpx.get(url + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"rasa did not start in 240 s; see {log_dir}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
