"""Promotion and rollback against a real Rasa (run with --enable-api, and with --auth-token),
and the CLI doing it.

Marked `live` (make test-live): starts the action server and Rasa like
tests/servers.py does, with the model `make train` made (MODEL), and a copy
of it under another name as the candidate. The decision to promote is
tested in test_staff_models.py; here the comparisons are given, so that the
test spends its time on the servers: each PUT /model loads a model (10–20 s).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from servers import running_assistant
from staffkit import ROOT, running_rasa

from staffops import audit, models
from staffops.errors import PromotionRefused, ServerError

pytestmark = pytest.mark.live


def work_tree_model() -> Path:
    if os.environ.get("MODEL"):
        return Path(os.environ["MODEL"])
    made = sorted((ROOT / "models").glob("ginza-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    assert made, "no trained model: run `make train` (make test-live does)"
    return made[-1]


def comparison(candidate: Path, live: Path, ok: bool) -> models.Comparison:
    return models.Comparison(
        str(candidate),
        str(live),
        ok,
        models.DEFAULT_MARGIN,
        {"candidate": 0.9, "live": 0.95, "delta": -0.05} if not ok else {"candidate": 0.95},
        reasons=["given by the test"],
        reasons_ja=["テストの指定"],
    )


def status(url: str) -> str:
    return httpx.get(f"{url}/status", timeout=10).json()["model_file"]


def parse(url: str, text: str) -> str:
    answer = httpx.post(f"{url}/model/parse", json={"text": text}, timeout=30)
    answer.raise_for_status()
    intent = answer.json()["intent"]
    # a catalogue entry is named by its retrieval intent (faq/unknown_number)
    return intent.get("full_retrieval_intent_name") or intent["name"]


def test_promote_and_roll_back_on_a_running_rasa(project, tmp_path):
    first = project.models / work_tree_model().name
    first.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(work_tree_model(), first)
    candidate = project.candidates / "20260101T000000Z.tar.gz"
    candidate.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(first, candidate)

    with running_assistant(str(first), tmp_path / "logs") as assistant:
        url = assistant.url
        assert status(url) == first.name

        # Promotion: the server loads the candidate; live.json names both.
        live = models.promote(
            candidate, [url], project, "pytest", comparison=comparison(candidate, first, True)
        )
        assert status(url) == candidate.name
        assert parse(url, "知らない番号から何回も電話がかかってくる") == "faq/unknown_number"
        assert live["live"] == str(candidate) and live["previous"] == str(first.resolve())
        assert json.loads(project.live_json.read_text()) == live

        # Rollback from the command line: the previous model with one call.
        done = subprocess.run(
            [
                *(sys.executable, "-m", "staffops", "--root", str(project.root), "--who", "cli"),
                *("rollback", "--rasa-url", url),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert status(url) == first.name
        live = models.read_live(project)
        assert live["live"] == str(first.resolve()) and live["previous"] == str(candidate)

        # A worse candidate without a reason stays out; with a reason it goes in.
        worse = comparison(candidate, first, False)
        for blank in (None, "  "):
            with pytest.raises(PromotionRefused):
                models.promote(
                    candidate, [url], project, "pytest", comparison=worse, override=blank
                )
        assert status(url) == first.name
        models.promote(
            candidate, [url], project, "pytest", comparison=worse, override="new scam script today"
        )
        assert status(url) == candidate.name

        # One of two servers down: the first one is put back, live.json stays.
        before = project.live_json.read_bytes()
        with pytest.raises(ServerError) as error:
            models.rollback([url, "http://127.0.0.1:9"], project, "pytest")
        assert error.value.details["undone"] == [url]
        assert status(url) == candidate.name
        assert project.live_json.read_bytes() == before
        assert parse(url, "こんにちは") == "greet"

    actions = [(e["action"], e["who"]) for e in audit.read(project)]
    assert actions == [
        ("promote", "pytest"),
        ("rollback", "cli"),
        ("promote_refused", "pytest"),
        ("promote_refused", "pytest"),
        ("promote", "pytest"),
        ("promote_failed", "pytest"),
    ]
    override = audit.read(project)[4]["details"]
    assert override["override"] == "new scam script today" and override["compare_ok"] is False


def test_every_call_to_rasa_carries_its_token_and_an_override_is_audited(
    project, tmp_path, monkeypatch
):
    """Rasa run with --auth-token: without RASA_TOKEN staffops is turned away (and says
    so); with it, the gate's refusal is overridden with a written reason, which the audit
    log keeps with the gate's reasons, and the rollback goes through too."""
    first = project.models / work_tree_model().name
    first.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(work_tree_model(), first)
    candidate = project.candidates / "20260102T000000Z.tar.gz"
    candidate.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(first, candidate)
    token = "gate-test-token"
    refused = comparison(candidate, first, False)
    refused.reasons = ["chatbot/heldout/nlu.yml: faq/automated_voice 0.957 -> 0.000 (-0.957)"]
    refused.reasons_ja = [
        "候補のモデルは、運用中のモデルより成績が下がったため、そのままでは公開できません。"
    ]

    with running_rasa(first, tmp_path / "logs", token=token) as url:

        def running() -> str:
            answer = httpx.get(f"{url}/status", params={"token": token}, timeout=10)
            return answer.json()["model_file"]

        assert httpx.get(f"{url}/status", timeout=10).status_code == 401
        monkeypatch.delenv("RASA_TOKEN", raising=False)
        with pytest.raises(ServerError) as error:
            models.promote(
                candidate, [url], project, "pytest", comparison=refused, override="テスト"
            )
        assert "RASA_TOKEN" in error.value.ja and "401" in error.value.en
        assert running() == first.name

        monkeypatch.setenv("RASA_TOKEN", token)
        reason = "新しい手口の問い合わせが急に増えたため、下がった話題は来週直します"
        live = models.promote(
            candidate, [url], project, "sato", comparison=refused, override=reason
        )
        assert running() == candidate.name
        assert live["override"] == reason and live["by"] == "sato"
        models.rollback([url], project, "sato")
        assert running() == first.name

    entries = audit.read(project)
    assert [e["action"] for e in entries] == ["promote_failed", "promote", "rollback"]
    promoted = entries[1]
    assert promoted["who"] == "sato"
    assert promoted["details"]["override"] == reason
    assert promoted["details"]["compare_ok"] is False
    assert promoted["details"]["reasons"] == refused.reasons
