// Staff pages: the retraining job's progress, polled from /admin/api/jobs/<id>.
// Text from the server is only ever set with textContent.
"use strict";

(() => {
  const job = document.getElementById("job");
  if (!job || job.dataset.active !== "true") return;
  const id = job.dataset.job;
  const state = document.getElementById("job-state");
  const stage = document.getElementById("job-stage");
  const progress = document.getElementById("job-progress");
  const percent = document.getElementById("job-percent");
  const messages = document.getElementById("job-messages");

  async function poll() {
    let body;
    try {
      const resp = await fetch(`/admin/api/jobs/${encodeURIComponent(id)}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (resp.status === 401) {
        window.location.assign("/admin/login");
        return;
      }
      body = await resp.json();
    } catch (err) {
      window.setTimeout(poll, 5000);
      return;
    }
    state.textContent = body.state;
    stage.textContent = body.stage;
    progress.value = body.percent;
    percent.textContent = `${body.percent}%`;
    messages.replaceChildren();
    for (const m of body.messages || []) {
      const li = document.createElement("li");
      li.textContent = `${m.time} ${m.text}`;
      messages.append(li);
    }
    if (body.state === "queued" || body.state === "running") {
      window.setTimeout(poll, 2000);
    } else {
      // Finished: the page shows the comparison and the 公開 button.
      window.location.reload();
    }
  }

  window.setTimeout(poll, 1000);
})();
