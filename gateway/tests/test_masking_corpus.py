"""The masking floors in the gateway's own environment (spaCy 3.8, ja_ginza
5.3, pydantic 2), where the staff inbox and the LINE dead letters are
masked: the corpus test of the project (tests/test_masking_corpus.py), run
here too, and the gateway loading GiNZA only when it stores something."""

from __future__ import annotations

import subprocess
import sys

from tests.servers import GATEWAY, ROOT

CORPUS_TEST = ROOT / "tests" / "test_masking_corpus.py"


def test_the_corpus_floors_hold_in_the_gateways_environment():
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(CORPUS_TEST)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


def test_the_gateway_starts_without_loading_the_ner_model():
    code = (
        "import sys; from app.main import create_app; create_app(); "
        "assert 'spacy' not in sys.modules, 'GiNZA loaded at start-up'; print('ok')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=GATEWAY, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
