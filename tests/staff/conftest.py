"""Fixtures of the staff tools' tests: a copy of the project tree to write in, trained models.

The staff tools write to chatbot/data, chatbot/domain.yml, soudan/*.yml,
chatbot/staff/ and models/: the tests run them on a copy of the tree (in
pytest's temporary directory) and check, at the end of the session, that the
work tree's copies of those files did not change.

Markers: `slow` (trains a model on the fast path, staffkit.small_training; they run in
`make test-unit`, whose `-m "not live"` selects them; `pytest -m "not slow"`
skips them), `live` (starts Rasa or needs Redis: `make test-live`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from staffkit import WEAKENED, copy_project, fewer_examples, small_training, tree_digest

from staffops import jobs, models
from staffops.project import Project


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: trains a Rasa model (about a minute on 2 cores)")


@pytest.fixture(scope="session", autouse=True)
def work_tree_untouched():
    before = tree_digest()
    yield
    assert tree_digest() == before, "the staff tools' tests changed the work tree"


@pytest.fixture(autouse=True)
def records_in_the_copy(monkeypatch):
    """Each copy of the project keeps its records in its own SQLite file
    (var/records.sqlite), whatever DATABASE_URL the developer has set."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("RECORDS_SQLITE_PATH", raising=False)


@pytest.fixture
def project(tmp_path) -> Project:
    """A fresh copy of the project tree."""
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> dict:
    """Two trainings on the fast path (staffkit.small_training), once per session:

    - "good": the project's data, through a background retraining job
      (jobs.start → a detached process; no Rasa URL and no live model, so it
      ends with the candidate ready), with its progress file;
    - "worse": a copy with most examples of three intents removed.
    """
    base = tmp_path_factory.mktemp("trained")
    good_project = copy_project(base / "good")
    small_training(good_project)
    job_id = jobs.start(good_project, "pytest")
    job = jobs.wait(job_id, good_project, timeout=1200, poll=0.5)
    assert job["state"] == "done", job
    worse_project = copy_project(base / "worse")
    small_training(worse_project)
    fewer_examples(worse_project, WEAKENED)
    worse = models.retrain(worse_project, who="pytest")
    return {
        "good": Path(job["result"]["candidate"]),
        "good_root": good_project.root,
        "job": job,
        "worse": worse,
        "worse_root": worse_project.root,
    }
