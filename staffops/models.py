"""Candidate models: retrain, evaluate on the held-out set, compare, promote, roll back.

- `retrain` trains into models/candidates/<UTC time>.tar.gz (`rasa train
  --config config.yml` in chatbot/), one training at a time: it waits for a
  lock of its own and for any other `rasa train` on the machine (2 cores).
- `evaluate` runs scripts/evaluate.py (the project's held-out evaluation) on
  one model and keeps the figures in results/staff-eval/ (reused while the
  model file and chatbot/heldout/nlu.yml are unchanged).
- `compare` says whether a candidate may replace the live model: macro-F1
  must not drop and no intent's F1 may drop by more than a margin (0.1).
- `promote` asks every Rasa server (`PUT /model`, Rasa run with
  --enable-api) to load the candidate, unless compare said no and no
  override reason is given, and records models/live.json {live, previous,
  metrics}; `rollback` puts the previous model back the same way.

The live model is the one models/live.json names, else the newest
models/ginza-*.tar.gz (what `make train` made).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from staffops import audit
from staffops.errors import PromotionRefused, ServerError, StaffOpsError
from staffops.locks import file_lock
from staffops.project import Project

# One held-out message of an intent with 10–20 of them moves its F1 by about
# 0.05–0.07: the margin allows that, not more.
DEFAULT_MARGIN = 0.1
Progress = Callable[[str, "float | None", "str | None"], None]

_EPOCHS = re.compile(r"Epochs:\s*(\d+)%")


def _noop(stage: str, percent: float | None = None, message: str | None = None) -> None:
    pass


def _env(log_level: str = "WARNING") -> dict[str, str]:
    return dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        RASA_TELEMETRY_ENABLED="false",
        PYTHONHASHSEED=os.environ.get("PYTHONHASHSEED", "0"),
        LOG_LEVEL=log_level,
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def data_digest(root=None) -> str:
    """A short hash of what a model is trained on (config, domain, data)."""
    project = Project.at(root)
    digest = hashlib.sha256()
    files = [project.chatbot / "config.yml", project.domain]
    files += sorted((project.chatbot / "data").rglob("*.yml"))
    for path in files:
        digest.update(str(path.relative_to(project.root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# ---------------------------------------------------------------- training


def other_trainings() -> list[int]:
    """Process ids of `rasa train` runs on this machine (anyone's)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="ignore") for a in args if a]
        for i, word in enumerate(words[:-1]):
            if (word == "rasa" or word.endswith("/rasa")) and words[i + 1] == "train":
                pids.append(int(proc.name))
                break
    return pids


def retrain(
    root=None,
    who: str | None = None,
    *,
    progress: Progress = _noop,
    timeout: float = 3600,
    wait_for_others: bool = True,
) -> Path:
    """Train a candidate on the current data; its path (models/candidates/<UTC time>.tar.gz)."""
    project = Project.at(root)
    project.candidates.mkdir(parents=True, exist_ok=True)
    progress("waiting", 0, "waiting for the training lock")
    with file_lock(project.train_lock, what="training"):
        reported: list[int] = []
        while wait_for_others and (others := other_trainings()):
            if others != reported:
                progress("waiting", 0, f"another training is running (pid {others}); waiting")
                reported = others
            time.sleep(5)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        while (project.candidates / f"{stamp}.tar.gz").exists():
            time.sleep(1)
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        model = project.candidates / f"{stamp}.tar.gz"
        log_path = project.candidates / f"{stamp}.log"
        digest = data_digest(project)
        command = [
            str(project.rasa_bin),
            "train",
            "--config",
            "config.yml",
            "--out",
            str(project.candidates),
            "--fixed-model-name",
            stamp,
        ]
        progress("training", 5, f"training {model.name} (data {digest})")
        started = time.monotonic()
        tail: list[str] = []
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                command,
                cwd=project.chatbot,
                env=_env("INFO"),  # below INFO Rasa hides DIET's epoch bar (our percentage)
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            assert proc.stdout is not None
            buffer = b""
            last_percent = -1
            while chunk := proc.stdout.read1(4096):
                log.write(chunk)
                buffer += chunk
                *parts, buffer = re.split(rb"[\r\n]", buffer)
                for part in parts:
                    line = part.decode("utf-8", errors="replace").strip()
                    if not line:
                        continue
                    tail = [*tail[-40:], line]
                    epochs = _EPOCHS.search(line)
                    if epochs and int(epochs.group(1)) != last_percent:
                        last_percent = int(epochs.group(1))
                        # Featurising is the first 10 %, DIET's epochs 10–65 %.
                        progress("training", 10 + 0.55 * last_percent, None)
                if time.monotonic() - started > timeout:
                    proc.kill()
            returncode = proc.wait()
        seconds = round(time.monotonic() - started, 1)
        if returncode != 0 or not model.is_file():
            details = {"model": str(model), "returncode": returncode, "log": str(log_path)}
            audit.record("retrain_failed", {**details, "tail": tail[-10:]}, who=who, root=project)
            raise StaffOpsError(
                "学習に失敗しました。ログを確認してください: " + str(log_path),
                f"rasa train failed (exit {returncode}); see {log_path}",
                tail=tail[-10:],
            )
        meta = {"model": str(model), "seconds": seconds, "data": digest, "by": who}
        model.with_suffix("").with_suffix(".json").write_text(json.dumps(meta, indent=1))
        audit.record("retrain", meta, who=who, root=project)
        progress("trained", 65, f"trained {model.name} in {seconds} s")
        return model


# ---------------------------------------------------------------- evaluation


def _stem(model: Path) -> str:
    return model.name.removesuffix(".tar.gz")


def evaluate(model, root=None, *, use_cache: bool = True, timeout: float = 1800) -> dict[str, Any]:
    """Held-out figures of one model: macro_f1, accuracy, per_intent {intent: {f1, ...}}."""
    project = Project.at(root)
    model = Path(model).resolve()
    if not model.is_file():
        raise StaffOpsError(f"モデルがありません: {model}", f"no model file {model}")
    stat = model.stat()
    heldout_sha = _sha256(project.heldout)
    cache = project.eval_dir / f"{_stem(model)}.json"
    if use_cache and cache.is_file():
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if (
            cached.get("heldout_sha256") == heldout_sha
            and cached.get("model_size") == stat.st_size
            and cached.get("model_mtime_ns") == stat.st_mtime_ns
        ):
            return cached
    out = project.eval_dir / _stem(model)
    figures_path = out / "figures.json"
    figures_path.unlink(missing_ok=True)
    proc = subprocess.run(
        [
            str(project.rasa_python),
            str(project.evaluate_script),
            "--model",
            str(model),
            "--out",
            str(out),
            "--json-out",
            str(figures_path),
        ],
        cwd=project.root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0 or not figures_path.is_file():
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-10:]
        raise StaffOpsError(
            f"評価に失敗しました: {model.name}",
            f"scripts/evaluate.py failed on {model} (exit {proc.returncode})",
            tail=tail,
        )
    figures = json.loads(figures_path.read_text(encoding="utf-8"))
    run = figures["models"]["ginza"]
    metrics = {
        "model": str(model),
        "macro_f1": run["macro_f1"],
        "accuracy": run["accuracy"],
        "per_intent": run["per_intent"],
        "messages": figures["messages"],
        "heldout_sha256": figures["heldout_sha256"],
        "model_size": stat.st_size,
        "model_mtime_ns": stat.st_mtime_ns,
        "evaluated_at": audit.now(),
        "details": str(out),
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    return metrics


def summary(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    """The figures live.json keeps: macro-F1, accuracy, F1 per intent."""
    if not metrics:
        return None
    return {
        "macro_f1": round(metrics["macro_f1"], 4),
        "accuracy": round(metrics["accuracy"], 4),
        "f1": {i: round(m["f1"], 4) for i, m in metrics["per_intent"].items()},
        "heldout_sha256": metrics.get("heldout_sha256"),
    }


# ---------------------------------------------------------------- live model


def read_live(root=None) -> dict[str, Any] | None:
    path = Project.at(root).live_json
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def live_model(root=None) -> Path | None:
    """models/live.json's live model, else the newest models/ginza-*.tar.gz."""
    project = Project.at(root)
    live = read_live(project)
    if live and live.get("live") and Path(live["live"]).is_file():
        return Path(live["live"])
    made = sorted(project.models.glob("ginza-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return made[-1].resolve() if made else None


def _write_live(project: Project, data: dict[str, Any]) -> None:
    project.models.mkdir(parents=True, exist_ok=True)
    tmp = project.live_json.with_name(f".live.json.{os.getpid()}")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, project.live_json)


# ---------------------------------------------------------------- comparison


@dataclass
class Comparison:
    candidate: str
    live: str | None
    ok: bool
    margin: float
    macro: dict[str, float | None]
    per_intent: dict[str, dict[str, float]] = field(default_factory=dict)
    drops: dict[str, float] = field(default_factory=dict)  # intent → F1 change beyond the margin
    reasons: list[str] = field(default_factory=list)
    reasons_ja: list[str] = field(default_factory=list)
    candidate_metrics: dict[str, Any] | None = None
    live_metrics: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["candidate_metrics"] = summary(self.candidate_metrics)
        data["live_metrics"] = summary(self.live_metrics)
        return data

    def table(self) -> str:
        lines = [
            f"candidate: {self.candidate}",
            f"live:      {self.live or '(none)'}",
            f"{'intent':28} {'live':>7} {'cand.':>7} {'change':>7}",
        ]
        for intent, row in sorted(self.per_intent.items()):
            flag = "  <-- drop" if intent in self.drops else ""
            lines.append(
                f"{intent:28} {row['live']:7.3f} {row['candidate']:7.3f} {row['delta']:+7.3f}{flag}"
            )
        macro = self.macro
        if macro.get("live") is not None:
            lines.append(
                f"{'macro-F1':28} {macro['live']:7.3f} {macro['candidate']:7.3f} "
                f"{macro['delta']:+7.3f}"
            )
        lines.append(("OK: " if self.ok else "REFUSED: ") + "; ".join(self.reasons))
        return "\n".join(lines)


def compare(
    candidate,
    live=None,
    root=None,
    *,
    margin: float = DEFAULT_MARGIN,
    macro_tolerance: float = 0.0,
    progress: Progress = _noop,
) -> Comparison:
    """May `candidate` replace `live` (default: the live model)? Both evaluated on the held-out set."""
    project = Project.at(root)
    candidate = Path(candidate).resolve()
    live = Path(live).resolve() if live else live_model(project)
    progress("evaluating", 70, f"evaluating {candidate.name} on the held-out set")
    cand = evaluate(candidate, project)
    if live is None:
        return Comparison(
            str(candidate),
            None,
            True,
            margin,
            {"candidate": cand["macro_f1"], "live": None, "delta": None},
            reasons=["no live model to compare with"],
            reasons_ja=["比較する運用中のモデルがありません"],
            candidate_metrics=cand,
        )
    progress("evaluating", 82, f"evaluating the live model {live.name}")
    base = evaluate(live, project)
    progress("comparing", 90, None)
    per_intent = {}
    for intent in sorted(set(base["per_intent"]) | set(cand["per_intent"])):
        new = cand["per_intent"].get(intent, {}).get("f1", 0.0)
        old = base["per_intent"].get(intent, {}).get("f1", 0.0)
        per_intent[intent] = {"live": old, "candidate": new, "delta": new - old}
    drops = {i: r["delta"] for i, r in per_intent.items() if r["delta"] < -margin - 1e-9}
    macro_delta = cand["macro_f1"] - base["macro_f1"]
    reasons, reasons_ja = [], []
    if macro_delta < -macro_tolerance - 1e-9:
        reasons.append(
            f"macro-F1 drops from {base['macro_f1']:.3f} to {cand['macro_f1']:.3f} "
            f"({macro_delta:+.3f})"
        )
        reasons_ja.append(
            f"全体の精度（macro-F1）が {base['macro_f1']:.3f} から {cand['macro_f1']:.3f} に下がります"
        )
    for intent, delta in sorted(drops.items(), key=lambda item: item[1]):
        reasons.append(f"F1 of {intent} drops by {-delta:.3f} (more than {margin})")
        reasons_ja.append(
            f"意図「{intent}」の精度（F1）が {-delta:.3f} 下がります（許容 {margin}）"
        )
    ok = not reasons
    if ok:
        reasons.append(
            f"macro-F1 {base['macro_f1']:.3f} → {cand['macro_f1']:.3f} ({macro_delta:+.3f}); "
            f"no intent drops by more than {margin}"
        )
        reasons_ja.append(
            f"macro-F1 {base['macro_f1']:.3f} → {cand['macro_f1']:.3f}、"
            f"どの意図も {margin} より大きく下がっていません"
        )
    return Comparison(
        str(candidate),
        str(live),
        ok,
        margin,
        {"candidate": cand["macro_f1"], "live": base["macro_f1"], "delta": macro_delta},
        per_intent,
        drops,
        reasons,
        reasons_ja,
        cand,
        base,
    )


# ---------------------------------------------------------------- Rasa servers


def _url(base: str, path: str, token: str | None) -> str:
    url = base.rstrip("/") + path
    return url + ("?" + urllib.parse.urlencode({"token": token}) if token else "")


def _request(method: str, url: str, body: Any = None, timeout: float = 30) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def server_status(url: str, token: str | None = None, timeout: float = 10) -> dict[str, Any]:
    """Rasa's GET /status: model_file (the file name), model_id."""
    code, body = _request("GET", _url(url, "/status", token), timeout=timeout)
    if code != 200:
        raise ServerError(
            f"Rasa（{url}）の状態を取得できません", f"GET {url}/status answered {code}"
        )
    return json.loads(body)


def put_model(url: str, model: Path, token: str | None = None, timeout: float = 600) -> None:
    """PUT /model {"model_file": <absolute path>}: the server loads it (a path on its machine)."""
    code, body = _request(
        "PUT", _url(url, "/model", token), {"model_file": str(Path(model).resolve())}, timeout
    )
    if code not in (200, 204):
        raise ServerError(
            f"Rasa（{url}）がモデルを読み込めませんでした（{code}）",
            f"PUT {url}/model answered {code}: {body[:300].decode(errors='replace')}",
        )
    status = server_status(url, token)
    if status.get("model_file") != Path(model).name:
        raise ServerError(
            f"Rasa（{url}）のモデルが切り替わっていません",
            f"{url} runs {status.get('model_file')} after loading {Path(model).name}",
        )


def _switch(urls: list[str], model: Path, fallback: Path | None, token, timeout) -> None:
    """Load `model` on every server; on a failure put `fallback` back where it was switched."""
    done: list[str] = []
    try:
        for url in urls:
            put_model(url, model, token, timeout)
            done.append(url)
    except (OSError, StaffOpsError) as error:
        undone = []
        for url in done:
            if fallback is not None:
                try:
                    put_model(url, fallback, token, timeout)
                    undone.append(url)
                except (OSError, StaffOpsError):
                    pass
        if isinstance(error, StaffOpsError):
            error.details.update(switched=done, undone=undone)
            raise
        raise ServerError(
            f"Rasa に接続できません: {error}",
            f"cannot reach a Rasa server: {error}",
            switched=done,
            undone=undone,
        ) from error


def current_model(root=None, rasa_urls=(), token: str | None = None) -> Path | None:
    """The live model: models/live.json's; without it, the model file the first server
    runs when it is found in models/; else the newest models/ginza-*.tar.gz."""
    project = Project.at(root)
    urls = [u for u in (rasa_urls or []) if u]
    if urls and not read_live(project):
        running = _running_model(project, urls, token or os.environ.get("RASA_TOKEN") or None)
        if running is not None:
            return running
    return live_model(project)


def _running_model(project: Project, urls: list[str], token: str | None) -> Path | None:
    try:
        name = server_status(urls[0], token).get("model_file") or ""
    except (OSError, StaffOpsError, ValueError):
        return None
    for folder in (project.models, project.candidates):
        if name and (folder / name).is_file():
            return (folder / name).resolve()
    return None


def _clean_urls(rasa_urls) -> list[str]:
    if isinstance(rasa_urls, str):
        rasa_urls = rasa_urls.split(",")
    urls = [u.strip().rstrip("/") for u in rasa_urls or [] if u and u.strip()]
    if not urls:
        raise StaffOpsError(
            "Rasa の URL を指定してください（--rasa-url）", "give the Rasa server URLs (--rasa-url)"
        )
    return urls


def promote(
    candidate,
    rasa_urls,
    root=None,
    who: str | None = None,
    *,
    override: str | None = None,
    margin: float = DEFAULT_MARGIN,
    comparison: Comparison | None = None,
    token: str | None = None,
    timeout: float = 600,
) -> dict[str, Any]:
    """Make `candidate` live on every server if compare allows it, or with an override reason."""
    project = Project.at(root)
    urls = _clean_urls(rasa_urls)
    token = token or os.environ.get("RASA_TOKEN") or None
    candidate = Path(candidate).resolve()
    if not candidate.is_file():
        raise StaffOpsError(f"モデルがありません: {candidate}", f"no model file {candidate}")
    current = current_model(project, urls, token)
    if current is not None and current.resolve() == candidate:
        raise StaffOpsError(
            "このモデルはすでに運用中です", f"{candidate.name} is already the live model"
        )
    override = (override or "").strip() or None
    if comparison is None:
        comparison = compare(candidate, current, project, margin=margin)
    if not comparison.ok and not override:
        audit.record(
            "promote_refused",
            {
                "candidate": str(candidate),
                "live": str(current) if current else None,
                "reasons": comparison.reasons,
                "macro": comparison.macro,
                "drops": comparison.drops,
            },
            who=who,
            root=project,
        )
        raise PromotionRefused(
            "候補モデルは運用中のモデルより悪いため、切り替えませんでした: "
            + "; ".join(comparison.reasons_ja),
            "the candidate is worse than the live model; not promoted: "
            + "; ".join(comparison.reasons),
            comparison=comparison.as_dict(),
        )
    try:
        _switch(urls, candidate, current, token, timeout)
    except StaffOpsError as error:
        audit.record(
            "promote_failed",
            {"candidate": str(candidate), "rasa_urls": urls, "error": error.en, **error.details},
            who=who,
            root=project,
        )
        raise
    previous = read_live(project) or {}
    live = {
        "live": str(candidate),
        "previous": str(current) if current else None,
        "metrics": summary(comparison.candidate_metrics),
        "previous_metrics": summary(comparison.live_metrics) or previous.get("metrics"),
        "promoted_at": audit.now(),
        "by": who or audit.default_who(),
        "override": override,
        "rasa_urls": urls,
    }
    _write_live(project, live)
    audit.record(
        "promote",
        {
            "candidate": str(candidate),
            "previous": live["previous"],
            "rasa_urls": urls,
            "override": override,
            "compare_ok": comparison.ok,
            "reasons": comparison.reasons,
            "macro": comparison.macro,
        },
        who=who,
        root=project,
    )
    return live


def rollback(
    rasa_urls,
    root=None,
    who: str | None = None,
    *,
    token: str | None = None,
    timeout: float = 600,
) -> dict[str, Any]:
    """Put the previous model (models/live.json) back on every server."""
    project = Project.at(root)
    urls = _clean_urls(rasa_urls)
    token = token or os.environ.get("RASA_TOKEN") or None
    live = read_live(project)
    if not live or not live.get("previous"):
        raise StaffOpsError(
            "戻せる前のモデルがありません（models/live.json）",
            "nothing to roll back to: models/live.json names no previous model",
        )
    previous = Path(live["previous"])
    if not previous.is_file():
        raise StaffOpsError(
            f"前のモデルのファイルがありません: {previous}",
            f"the previous model {previous} is gone",
        )
    current = Path(live["live"]) if live.get("live") else None
    try:
        _switch(urls, previous, current if current and current.is_file() else None, token, timeout)
    except StaffOpsError as error:
        audit.record(
            "promote_failed",
            {"rollback_to": str(previous), "rasa_urls": urls, "error": error.en, **error.details},
            who=who,
            root=project,
        )
        raise
    new = {
        "live": str(previous),
        "previous": live.get("live"),
        "metrics": live.get("previous_metrics"),
        "previous_metrics": live.get("metrics"),
        "rolled_back_at": audit.now(),
        "by": who or audit.default_who(),
        "rasa_urls": urls,
    }
    _write_live(project, new)
    audit.record(
        "rollback",
        {"live": new["live"], "from": new["previous"], "rasa_urls": urls},
        who=who,
        root=project,
    )
    return new
