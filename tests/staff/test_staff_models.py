"""Retraining for real, the background job's progress file, and compare refusing a worse model.

Marked `slow`: the session trains two models (fixture `trained`, about a
minute each on 2 cores) and evaluates each on the held-out set (about 30 s).
"""

from __future__ import annotations

import json
import shutil
import tarfile

import pytest
from staffkit import WEAKENED

from staffops import audit, models
from staffops.errors import PromotionRefused

pytestmark = pytest.mark.slow


def test_retraining_job_produces_a_model_and_a_progress_file(trained):
    good, job = trained["good"], trained["job"]
    assert good.is_file() and good.parent.name == "candidates"
    assert good.name.endswith("Z.tar.gz")  # UTC time stamp
    with tarfile.open(good) as tar:
        assert tar.getnames()
    # the progress file a web page polls
    assert job["state"] == "done" and job["percent"] == 100
    assert job["result"]["outcome"] == "candidate_ready"  # no Rasa URL, no live model yet
    assert job["result"]["comparison"]["ok"] is True
    texts = [m["text"] for m in job["messages"]]
    assert any(t.startswith("training ") for t in texts)
    assert any(t.startswith("trained ") for t in texts)
    assert job["pid"] and job["started"] and job["finished"]
    stored = json.loads(
        (trained["good_root"] / "results" / "staff-jobs" / f"{job['id']}.json").read_text()
    )
    assert stored == {k: v for k, v in job.items()}
    retrain = [e for e in audit.read(trained["good_root"]) if e["action"] == "retrain"]
    assert len(retrain) == 1 and retrain[0]["details"]["model"] == str(good)
    assert retrain[0]["who"] == "pytest"


def test_the_same_model_compares_equal(trained):
    same = models.compare(trained["good"], trained["good"], trained["good_root"])
    assert same.ok and same.macro["delta"] == 0 and same.drops == {}
    assert same.macro["candidate"] > 0.85


def test_a_worse_model_is_refused_and_the_live_one_stays(trained, project):
    good, worse = trained["good"], trained["worse"]
    project.models.mkdir(parents=True, exist_ok=True)
    # The good model's held-out figures were computed in its own tree; reuse them.
    shutil.copytree(trained["good_root"] / "results" / "staff-eval", project.eval_dir)
    live = {"live": str(good), "previous": None, "metrics": None}
    project.live_json.write_text(json.dumps(live))
    before = project.live_json.read_bytes()

    comparison = models.compare(worse, None, project)  # against the live model of live.json
    assert comparison.live == str(good)
    assert not comparison.ok
    assert comparison.macro["delta"] < 0
    assert set(comparison.drops) & set(WEAKENED), comparison.table()
    assert all(delta < -models.DEFAULT_MARGIN for delta in comparison.drops.values())
    assert "REFUSED" in comparison.table()

    # A closed port: a refused promotion never talks to any server.
    with pytest.raises(PromotionRefused) as error:
        models.promote(worse, ["http://127.0.0.1:9"], project, "pytest")
    assert "worse" in error.value.en
    assert project.live_json.read_bytes() == before
    assert models.live_model(project) == good
    entry = audit.read(project)[-1]
    assert entry["action"] == "promote_refused"
    assert entry["details"]["candidate"] == str(worse)
    assert set(entry["details"]["drops"]) & set(WEAKENED)

    # A wider margin lets per-intent drops through, never a macro-F1 drop.
    lenient = models.compare(worse, good, project, margin=1.0)
    assert not lenient.ok and lenient.drops == {}
    assert "macro-F1 drops" in lenient.reasons[0]
