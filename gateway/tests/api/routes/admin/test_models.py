"""Retraining, promotion and rollback from the staff pages."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

from tests.staff import signed_in


async def test_promote_and_rollback_without_a_candidate_say_why(staff_gateway, project_copy):
    async with staff_gateway() as client:
        csrf = await signed_in(client)
        resp = await client.post("/admin/rollback", data={"csrf": csrf})
        assert resp.status_code == 409
        assert "戻せる前のモデルがありません" in resp.text
        assert (await client.get("/admin/jobs/nosuchjob")).status_code == 404


async def test_retraining_starts_a_job_whose_progress_the_page_polls(staff_gateway, project_copy):
    """The job is real (staffops.jobs.start: a detached `python -m staffops job
    run`) and is stopped once it has left the queue: the whole retraining is
    staffops' own tests' business (tests/staff, marked slow)."""
    async with staff_gateway() as client:
        csrf = await signed_in(client, "suzuki")
        resp = await client.post("/admin/retrain", data={"csrf": csrf})
        assert resp.status_code == 303
        job_id = resp.headers["location"].rsplit("/", 1)[-1]
        pid = None
        try:
            page = await client.get(f"/admin/jobs/{job_id}")
            assert page.status_code == 200
            assert 'data-active="true"' in page.text
            assert "/static/admin.js" in page.text
            deadline = time.monotonic() + 60
            seen = []
            while time.monotonic() < deadline:
                body = (await client.get(f"/admin/api/jobs/{job_id}")).json()
                seen.append(body["stage"])
                if body["stage"] not in {"queued"}:
                    break
                await asyncio.sleep(0.5)
            assert seen[-1] in {"waiting", "training", "trained", "evaluating", "failed"}, seen
            progress = json.loads(
                (project_copy / "results" / "staff-jobs" / f"{job_id}.json").read_text()
            )
            pid = progress.get("pid")
            assert progress["spec"]["who"] == "suzuki"
            # a second one is refused while this one runs
            again = await client.post("/admin/retrain", data={"csrf": csrf})
            assert again.status_code == 409 and "実行中" in again.text
            models_page = (await client.get("/admin/models")).text
            assert job_id in models_page
        finally:
            if pid:
                try:
                    os.killpg(pid, signal.SIGTERM)  # the job's own session (start_new_session)
                except ProcessLookupError:
                    pass
