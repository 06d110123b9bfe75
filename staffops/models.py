"""Candidate models: retrain, evaluate on the labelled sets, compare, promote, roll back.

- `retrain` trains into models/candidates/<UTC time>.tar.gz (`rasa train
  --config config.yml` in chatbot/), one training at a time: it waits for a
  lock of its own and for any other `rasa train` on the machine (2 cores).
- `evaluate` runs scripts/evaluate.py on one model over the labelled sets
  (the held-out set chatbot/heldout/nlu.yml, and the blind set chatbot/blind/
  when it exists) and keeps the figures and each message's predicted label
  in results/staff-eval/ (reused while the model file and the sets are
  unchanged).
- `compare` says whether a candidate may replace the live model: it is
  refused only for a drop beyond the noise, per intent or in macro-F1, on
  any set (staffops.gate: paired bootstrap over the messages, and the seed
  noise measured by `python -m staffops noise`).
- `promote` asks every Rasa server (`PUT /model`, Rasa run with
  --enable-api; with `RASA_TOKEN` set, its `?token=`) to load the candidate,
  unless compare said no and no override reason is given, and records
  models/live.json {live, previous, metrics}; `rollback` puts the previous
  model back the same way.

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
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from staffops import audit, gate, labels
from staffops.errors import PromotionRefused, ServerError, StaffOpsError
from staffops.locks import file_lock
from staffops.project import Project

# The gate refuses a drop beyond the noise by more than this (staffops.gate).
DEFAULT_MARGIN = gate.MARGIN
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


@contextmanager
def training_slot(project: Project, progress: Progress = _noop, wait_for_others: bool = True):
    """One training at a time: our lock, then no other `rasa train` on the machine (2 cores)."""
    project.candidates.mkdir(parents=True, exist_ok=True)
    progress("waiting", 0, "waiting for the training lock")
    with file_lock(project.train_lock, what="training"):
        reported: list[int] = []
        while wait_for_others and (others := other_trainings()):
            if others != reported:
                progress("waiting", 0, f"another training is running (pid {others}); waiting")
                reported = others
            time.sleep(5)
        yield


def run_training(
    project: Project,
    command: list[str],
    log_path: Path,
    progress: Progress = _noop,
    timeout: float = 3600,
) -> tuple[int, float, list[str]]:
    """Run a `rasa train` command in chatbot/, its output to `log_path` and DIET's epochs
    to `progress`; (exit status, seconds, last lines)."""
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
    return returncode, round(time.monotonic() - started, 1), tail


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
    with training_slot(project, progress, wait_for_others):
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
        returncode, seconds, tail = run_training(project, command, log_path, progress, timeout)
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


def _fresh(cached: dict[str, Any], stat: os.stat_result, wanted: dict[str, str]) -> bool:
    sets = cached.get("sets") or {}
    return (
        cached.get("model_size") == stat.st_size
        and cached.get("model_mtime_ns") == stat.st_mtime_ns
        and all((sets.get(name) or {}).get("sha256") == sha for name, sha in wanted.items())
    )


def evaluate(
    model, root=None, *, sets=None, use_cache: bool = True, timeout: float = 1800
) -> dict[str, Any]:
    """Figures of one model on the labelled sets (default: the held-out set and the blind set).

    {"macro_f1", "accuracy", "per_intent" (of the first set), "sets": {name: {"sha256",
    "messages", "macro_f1", "accuracy", "per_intent", "gold", "pred"}}, ...}: `gold` and
    `pred` are the expected and predicted label of each message, in the set's order
    (labels only, no text), for the paired comparison. Kept in results/staff-eval/ and
    reused while the model file and the sets are unchanged.
    """
    project = Project.at(root)
    model = Path(model).resolve()
    if not model.is_file():
        raise StaffOpsError(f"モデルがありません: {model}", f"no model file {model}")
    paths = project.eval_sets(sets)
    if not paths:
        raise StaffOpsError(
            "評価用データがありません（chatbot/heldout/nlu.yml）", "no labelled set to evaluate on"
        )
    stat = model.stat()
    wanted = {project.set_name(p): _sha256(p) for p in paths}
    cache = project.eval_dir / f"{_stem(model)}.json"
    if use_cache and cache.is_file():
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if _fresh(cached, stat, wanted):
            return cached
    out = project.eval_dir / _stem(model)
    figures_path = out / "figures.json"
    figures_path.unlink(missing_ok=True)
    command = [
        str(project.rasa_python),
        str(project.evaluate_script),
        "--model",
        str(model),
        "--out",
        str(out),
        "--json-out",
        str(figures_path),
    ]
    for path in paths:
        command += ["--set", str(path)]
    proc = subprocess.run(
        command, cwd=project.root, env=_env(), capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0 or not figures_path.is_file():
        # The last lines of the script's own output: figures and Rasa's errors, never a message.
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
        "sets": {name: {**figures["sets"][name], **run["sets"][name]} for name in figures["sets"]},
        "model_size": stat.st_size,
        "model_mtime_ns": stat.st_mtime_ns,
        "evaluated_at": audit.now(),
        "details": str(out),
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    return metrics


def summary(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    """The figures live.json keeps: macro-F1, accuracy, F1 per intent (first set), macro-F1 per set."""
    if not metrics:
        return None
    return {
        "macro_f1": round(metrics["macro_f1"], 4),
        "accuracy": round(metrics["accuracy"], 4),
        "f1": {i: round(m["f1"], 4) for i, m in metrics["per_intent"].items()},
        "heldout_sha256": metrics.get("heldout_sha256"),
        "sets": {name: round(s["macro_f1"], 4) for name, s in (metrics.get("sets") or {}).items()},
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
    macro: dict[str, float | None]  # first set (the held-out set): candidate, live, delta, band
    per_intent: dict[str, dict[str, Any]] = field(default_factory=dict)  # first set, by intent
    drops: dict[str, float] = field(default_factory=dict)  # figure → change, beyond the noise
    reasons: list[str] = field(default_factory=list)
    reasons_ja: list[str] = field(default_factory=list)
    candidate_metrics: dict[str, Any] | None = None
    live_metrics: dict[str, Any] | None = None
    gate: dict[str, Any] | None = None  # staffops.gate.Decision.as_dict(): every set and figure

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["candidate_metrics"] = summary(self.candidate_metrics)
        data["live_metrics"] = summary(self.live_metrics)
        return data

    def table(self) -> str:
        """For engineers (command line): every figure with its noise band, then the decision."""
        lines = [f"candidate: {self.candidate}", f"live:      {self.live or '(none)'}"]
        if self.gate:
            noise_ = self.gate["noise"]
            lines.append(
                f"gate: a drop is refused when change < -(z·√2·seed sd + {self.gate['margin']}) "
                f"with z {self.gate['z']:.2f} (family-wise alpha {self.gate['alpha']} over "
                f"{self.gate['tests']} figures) and the 95% interval of the change "
                f"({self.gate['resamples']} paired bootstrap resamples) is below "
                f"-{self.gate['margin']}; either alone is a warning. Seed noise "
                + (
                    f"measured {noise_['measured_at']} over seeds {noise_['seeds']}"
                    if noise_["measured"]
                    else "not measured (default)"
                )
            )
        for set_ in (self.gate or {}).get("sets") or []:
            lines.append(f"\n{set_['name']}: {set_['messages']} messages")
            lines.append(
                f"{'intent':30} {'n':>3} {'live':>6} {'cand.':>6} {'change':>7} "
                f"{'95% interval':>16} {'±noise':>7} {'seed sd':>7}"
            )
            for row in [*set_["rows"], set_["macro"]]:
                flag = {
                    "drop": "  <-- DROP",
                    "warn": "  (warning)",
                    "better": "  better",
                    "few": "  (few, not judged)",
                }
                lines.append(
                    f"{row['intent'] or 'macro-F1':30} {row['support']:3d} {row['live']:6.3f} "
                    f"{row['candidate']:6.3f} {row['delta']:+7.3f} "
                    f"[{row['ci_low']:+6.3f},{row['ci_high']:+6.3f}] {row['band']:7.3f} "
                    f"{row['sd_seed']:7.3f}{flag.get(row['verdict'], '')}"
                )
        if not self.gate and self.macro.get("candidate") is not None:
            lines.append(f"macro-F1 of the candidate: {self.macro['candidate']:.3f}")
        lines.append(("\nOK: " if self.ok else "\nREFUSED: ") + "; ".join(self.reasons))
        return "\n".join(lines)


def compare(
    candidate,
    live=None,
    root=None,
    *,
    margin: float = gate.MARGIN,
    alpha: float = gate.ALPHA,
    min_support: int = gate.MIN_SUPPORT,
    sets=None,
    progress: Progress = _noop,
) -> Comparison:
    """May `candidate` replace `live` (default: the live model)? Both are scored on the same
    labelled sets (the held-out set, the blind set), and refused only for a drop beyond
    the noise (staffops.gate: paired bootstrap and the measured seed noise)."""
    project = Project.at(root)
    candidate = Path(candidate).resolve()
    live = Path(live).resolve() if live else live_model(project)
    paths = project.eval_sets(sets)
    names = [project.set_name(p) for p in paths]
    progress("evaluating", 70, f"evaluating {candidate.name} on {len(paths)} labelled set(s)")
    cand = evaluate(candidate, project, sets=paths)
    if live is None:
        return Comparison(
            str(candidate),
            None,
            True,
            margin,
            {"candidate": cand["macro_f1"], "live": None, "delta": None},
            reasons=["no live model to compare with"],
            reasons_ja=["比較する運用中のモデルがありません。"],
            candidate_metrics=cand,
        )
    progress("evaluating", 82, f"evaluating the live model {live.name}")
    base = evaluate(live, project, sets=paths)
    progress("comparing", 90, "comparing: paired bootstrap over the messages, seed-noise profile")
    paired = [
        gate.PairedSet(name, cand["sets"][name]["gold"], base["sets"][name]["pred"], pred)
        for name in names
        for pred in [cand["sets"][name]["pred"]]
        if pred  # a set file with no labelled message (whole conversations)
    ]
    if not paired:
        raise StaffOpsError(
            "評価用データに、意図の付いた文がありません", "no labelled message in the sets"
        )
    decision = gate.decide(
        paired,
        gate.NoiseProfile.load(project.noise_profile),
        alpha=alpha,
        margin=margin,
        min_support=min_support,
        label=labels.labeller(project),
    )
    first = decision.sets[0]
    per_intent = {
        r.intent: {
            "label": r.label,
            "support": r.support,
            "live": r.live,
            "candidate": r.candidate,
            "delta": r.delta,
            "band": r.band,
            "verdict": r.verdict,
        }
        for r in first.rows
    }
    drops = {
        ("" if s is first else f"{s.name}: ") + (r.intent or "macro-F1"): r.delta
        for s, r in decision.drops()
    }
    m = first.macro
    return Comparison(
        str(candidate),
        str(live),
        decision.ok,
        margin,
        {"candidate": m.candidate, "live": m.live, "delta": m.delta, "band": m.band},
        per_intent,
        drops,
        gate.explain_en(decision),
        gate.explain_ja(decision),
        cand,
        base,
        decision.as_dict(),
    )


# ---------------------------------------------------------------- Rasa servers


def rasa_token(token: str | None = None) -> str | None:
    """The token for Rasa's HTTP API (`rasa run --auth-token`): the one given, else
    $RASA_TOKEN; None when neither is set (a Rasa without a token)."""
    return token or os.environ.get("RASA_TOKEN") or None


def _url(base: str, path: str, token: str | None = None) -> str:
    """A URL of Rasa's HTTP API, with `?token=` whenever there is a token (every call)."""
    url = base.rstrip("/") + path
    token = rasa_token(token)
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


def _refused_token(url: str, call: str, code: int, token: str | None) -> None:
    if code in (401, 403):
        sent = "sent RASA_TOKEN" if rasa_token(token) else "no token set (RASA_TOKEN)"
        raise ServerError(
            f"Rasa（{url}）が操作を受け付けませんでした。API のトークン（RASA_TOKEN）を"
            "確認してください",
            f"{call} on {url} answered {code}: {sent}",
        )


def server_status(url: str, token: str | None = None, timeout: float = 10) -> dict[str, Any]:
    """Rasa's GET /status: model_file (the file name), model_id."""
    code, body = _request("GET", _url(url, "/status", token), timeout=timeout)
    _refused_token(url, "GET /status", code, token)
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
    _refused_token(url, "PUT /model", code, token)
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
        running = _running_model(project, urls, rasa_token(token))
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
    token = rasa_token(token)
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
            "\n".join(comparison.reasons_ja),
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
    token = rasa_token(token)
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
