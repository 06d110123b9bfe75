// Staff pages. Text from the server is only ever set with textContent, except
// the preview fragment, which the server renders (escaped by Jinja) for this page.
"use strict";

// The retraining job's progress, polled from /admin/api/jobs/<id>.
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
    // The Japanese words, never the job's internal state names.
    state.textContent = body.state_ja;
    stage.textContent = body.stage_ja;
    progress.value = body.percent;
    percent.textContent = `${body.percent}%`;
    messages.replaceChildren();
    for (const m of body.messages || []) {
      const li = document.createElement("li");
      li.textContent = `${m.time_ja} ${m.text}`;
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

// The new-entry form: the fact picker inserts at the cursor, and the preview
// follows the answer as it is typed. Without script, the form's own
// 「差し込む」 and 「プレビュー」 buttons do the same through the server.
(() => {
  const form = document.getElementById("entry-form");
  const preview = document.getElementById("preview");
  if (!form || !preview) return;
  const answer = document.getElementById("answer");
  const fact = document.getElementById("fact");
  const insert = document.getElementById("insert-fact");
  let timer = null;
  let sent = 0;

  async function refresh() {
    const data = new FormData(form);
    data.delete("action");
    const mine = ++sent;
    let resp;
    try {
      resp = await fetch(preview.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": data.get("csrf") },
        body: new URLSearchParams(data),
      });
    } catch (err) {
      return; // the 「プレビュー」 button still works
    }
    if (resp.status === 401) {
      window.location.assign("/admin/login");
      return;
    }
    if (!resp.ok || mine !== sent) return; // a newer preview is on its way
    const html = await resp.text();
    // Parsed as a document of its own (inert: no script runs), then moved in.
    const parsed = new DOMParser().parseFromString(html, "text/html");
    preview.replaceChildren(...parsed.body.childNodes);
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 300);
  }

  insert.addEventListener("click", (event) => {
    if (!fact.value) return; // the server says 「選んでください」
    event.preventDefault();
    const start = answer.selectionStart ?? answer.value.length;
    const end = answer.selectionEnd ?? start;
    answer.value = answer.value.slice(0, start) + fact.value + answer.value.slice(end);
    const after = start + fact.value.length;
    answer.focus();
    answer.setSelectionRange(after, after);
    fact.value = "";
    refresh();
  });
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
