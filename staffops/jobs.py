"""Background retraining jobs with a progress file a web page can poll.

A job runs retrain → evaluate → compare → promote (or refuse) and keeps
results/staff-jobs/<id>.json up to date:

    {"id", "state": "queued|running|done|failed",
     "stage": "queued|waiting|training|trained|evaluating|comparing|promoting|
               promoted|refused|candidate_ready|failed",
     "percent": 0-100, "messages": [{"time", "text"}], "result": {...} | null,
     "spec": {"who", "rasa_urls", "margin", "override"}, "pid", "created",
     "started", "finished"}

`result.outcome` is "promoted", "refused" (compare said no, no override),
"candidate_ready" (no Rasa URL given: promote it later) or "failed".

`start` runs the job in a detached process (`python -m staffops job run
<id>`), so it survives the web worker or terminal that started it; `run`
runs it in the calling process (the CLI's `retrain --wait`, tests).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from staffops import audit, gate, models
from staffops.errors import Busy, PromotionRefused, StaffOpsError
from staffops.project import REPO, Project

ACTIVE = {"queued", "running"}
# What the staff pages say for a job's state, stage and outcome.
STATE_JA = {"queued": "待機中", "running": "実行中", "done": "終了", "failed": "失敗"}
STAGE_JA = {
    "queued": "順番待ち",
    "waiting": "ほかの学習の終わりを待っています",
    "training": "学習中",
    "trained": "学習が終わりました",
    "evaluating": "評価中",
    "comparing": "運用中のモデルと比較中",
    "promoting": "公開中",
    "promoted": "公開しました",
    "refused": "公開を止めました",
    "candidate_ready": "公開を待っています",
    "failed": "失敗しました",
}
OUTCOME_JA = {
    "promoted": "公開しました",
    "refused": "成績が下がったため公開を止めました",
    "candidate_ready": "比較が終わりました（公開はまだです）",
    "failed": "失敗しました",
}
# Everything the models and job pages need to word and format a job and its comparison.
PAGE_WORDS = {
    "state_ja": STATE_JA,
    "stage_ja": STAGE_JA,
    "outcome_ja": OUTCOME_JA,
    "verdict_ja": gate.VERDICT_JA,
    "points": gate.points,
    "change": gate.change,
    "band": gate.noise,
    "interval": gate.interval,
    "date_ja": gate.date_ja,
}
_write_lock = threading.Lock()


def _path(project: Project, job_id: str) -> Path:
    if not job_id or "/" in job_id or job_id.startswith("."):
        raise ValueError(f"bad job id {job_id!r}")
    return project.jobs_dir / f"{job_id}.json"


def _save(project: Project, job: dict[str, Any]) -> None:
    path = _path(project, job["id"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with _write_lock:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(json.dumps(job, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)


def status(job_id: str, root=None) -> dict[str, Any]:
    """The job's progress file."""
    path = _path(Project.at(root), job_id)
    if not path.is_file():
        raise StaffOpsError(f"ジョブ {job_id} はありません", f"no job {job_id}")
    return json.loads(path.read_text(encoding="utf-8"))


def list_jobs(root=None, limit: int = 20) -> list[dict[str, Any]]:
    """The latest jobs, newest first."""
    folder = Project.at(root).jobs_dir
    paths = sorted(folder.glob("*.json"), reverse=True)[:limit] if folder.is_dir() else []
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A finished child not yet reaped is a zombie: not running any more.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state != "Z"


def running(root=None) -> dict[str, Any] | None:
    """The job that is queued or running, if any."""
    for job in list_jobs(root, limit=50):
        if job["state"] in ACTIVE and (_alive(job.get("pid")) or job["state"] == "queued"):
            if job["state"] == "queued" and time.time() - job.get("created_ts", 0) > 120:
                continue  # a queued job whose process never started
            return job
    return None


def create(
    root=None,
    who: str | None = None,
    *,
    rasa_urls: list[str] | tuple[str, ...] = (),
    margin: float = models.DEFAULT_MARGIN,
    override: str | None = None,
) -> dict[str, Any]:
    """Write a queued job's progress file (refused while another job runs)."""
    project = Project.at(root)
    busy = running(project)
    if busy:
        raise Busy(
            f"再学習ジョブ {busy['id']} が実行中です（{busy['stage']} {busy['percent']}%）",
            f"job {busy['id']} is still {busy['state']} ({busy['stage']}, {busy['percent']}%)",
            job=busy["id"],
        )
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    job = {
        "id": f"{stamp}-{secrets.token_hex(3)}",
        "state": "queued",
        "stage": "queued",
        "percent": 0,
        "messages": [],
        "result": None,
        "spec": {
            "who": who or audit.default_who(),
            "rasa_urls": list(rasa_urls or []),
            "margin": margin,
            "override": (override or "").strip() or None,
        },
        "pid": None,
        "created": audit.now(),
        "created_ts": time.time(),
        "started": None,
        "finished": None,
    }
    _save(project, job)
    return job


def start(root=None, who: str | None = None, *, mode: str = "process", **spec) -> str:
    """Create a job and run it in the background ("process" or "thread"); its id."""
    project = Project.at(root)
    job = create(project, who, **spec)
    if mode == "thread":
        threading.Thread(target=run, args=(job["id"], project), daemon=True).start()
        return job["id"]
    log = open(_path(project, job["id"]).with_suffix(".log"), "wb")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    # The job's audit entries go to the caller's records (the gateway's setting).
    env["DATABASE_URL"] = project.records_url()
    # The job process writes its own pid when it starts; until then the job
    # counts as queued (see `running`).
    subprocess.Popen(
        [sys.executable, "-m", "staffops", "--root", str(project.root), "job", "run", job["id"]],
        cwd=project.root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    return job["id"]


def run(job_id: str, root=None) -> dict[str, Any]:
    """Run a created job here and now; its final progress file."""
    project = Project.at(root)
    job = status(job_id, project)
    spec = job["spec"]
    who = spec.get("who")

    def update(stage: str, percent: float | None = None, message: str | None = None, **fields):
        job["stage"] = stage
        if percent is not None:
            job["percent"] = max(job["percent"], min(100, int(percent)))
        if message:
            job["messages"].append({"time": audit.now(), "text": message})
        job.update(fields)
        _save(project, job)

    update("waiting", 0, "job started", state="running", pid=os.getpid(), started=audit.now())
    try:
        candidate = models.retrain(project, who, progress=update)
        baseline = models.current_model(project, spec.get("rasa_urls"))
        comparison = models.compare(
            candidate,
            baseline,
            project,
            margin=spec.get("margin", models.DEFAULT_MARGIN),
            progress=update,
        )
        for reason in comparison.reasons:
            update("comparing", 92, reason)
        result: dict[str, Any] = {"candidate": str(candidate), "comparison": comparison.as_dict()}
        if not spec.get("rasa_urls"):
            if comparison.ok or spec.get("override"):
                outcome, stage = "candidate_ready", "candidate_ready"
                update(stage, 100, "no Rasa URL given: promote it with `staffops promote`")
            else:
                outcome, stage = "refused", "refused"
                update(stage, 100, "the candidate is worse than the live model; not promoted")
        else:
            update("promoting", 94, f"promoting {candidate.name} on {', '.join(spec['rasa_urls'])}")
            try:
                live = models.promote(
                    candidate,
                    spec["rasa_urls"],
                    project,
                    who,
                    override=spec.get("override"),
                    comparison=comparison,
                )
                result["live"] = live
                outcome, stage = "promoted", "promoted"
                update(stage, 100, f"{candidate.name} is live")
            except PromotionRefused as refusal:
                outcome, stage = "refused", "refused"
                update(stage, 100, refusal.en)
        result["outcome"] = outcome
        update(stage, 100, None, state="done", result=result, finished=audit.now())
    except Exception as error:  # the page must learn that the job ended
        message = (
            error.en if isinstance(error, StaffOpsError) else f"{type(error).__name__}: {error}"
        )
        update(
            "failed",
            None,
            message,
            state="failed",
            result={"outcome": "failed", "error": message},
            finished=audit.now(),
        )
    return job


def wait(
    job_id: str,
    root=None,
    *,
    timeout: float | None = None,
    poll: float = 1.0,
    on_update: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Poll the progress file until the job ends; its final state."""
    deadline = None if timeout is None else time.monotonic() + timeout
    seen = None
    while True:
        job = status(job_id, root)
        key = (job["stage"], job["percent"], len(job["messages"]))
        if on_update and key != seen:
            on_update(job)
            seen = key
        if job["state"] not in ACTIVE:
            return job
        if job["state"] == "running" and not _alive(job.get("pid")):
            job["state"], job["stage"] = "failed", "failed"
            job["result"] = {"outcome": "failed", "error": "the job's process ended unexpectedly"}
            return job
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job['stage']} after {timeout} s")
        time.sleep(poll)
