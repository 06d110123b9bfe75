"""Training noise of the pipeline: the same data trained with several seeds.

    python -m staffops noise --seeds 3      # train, evaluate, write staffops/seed_noise.json

The promotion gate (staffops.gate) needs to know how much each intent's F1
moves between two trainings that differ only by chance (DIET's random
seed, which also stands for the order of the data, which a staff change
reshuffles). Training the candidate several times in every staff job would
multiply its cost (a minute today, several once the catalogue has ~90
labels), so the noise is measured here once, for the current config and
data, and stored as a profile the gate reads: per labelled set, the mean
and standard deviation across seeds of each intent's F1 and of macro-F1,
the share of messages on which the seeds disagree, and, as a check, the
gate's decision on every pair of seed models (each pair is a "retraining
that changes nothing"; the gate should accept them).

Re-measure after a large change of the data or of config.yml (the profile
records the data digest it was measured on). Each seed is a full
`rasa train` (the candidate's own command, with `random_seed` of DIET and
ResponseSelector set), one at a time under the training lock; models go to
models/noise/<data digest>-seed<n>.tar.gz and are reused.
"""

from __future__ import annotations

import itertools
import json
import statistics
from pathlib import Path
from typing import Any

import yaml

from staffops import audit, gate, models
from staffops.errors import StaffOpsError
from staffops.models import Progress, _noop
from staffops.project import Project

SEEDED = {"DIETClassifier", "ResponseSelector"}


def seeded_config(project: Project, seed: int) -> dict[str, Any]:
    """config.yml with `random_seed: <seed>` on every DIET and ResponseSelector."""
    config = yaml.safe_load((project.chatbot / "config.yml").read_text(encoding="utf-8"))
    for component in config.get("pipeline") or []:
        if component.get("name") in SEEDED:
            component["random_seed"] = seed
    return config


def train_seed(
    project: Project,
    seed: int,
    digest: str | None = None,
    progress: Progress = _noop,
    wait_for_others: bool = True,
) -> tuple[Path, float | None]:
    """A model of the current data trained with `seed` (reused when it exists); (path, seconds)."""
    digest = digest or models.data_digest(project)
    out = project.models / "noise"
    out.mkdir(parents=True, exist_ok=True)
    name = f"{digest}-seed{seed}"
    model = out / f"{name}.tar.gz"
    meta = out / f"{name}.json"
    if model.is_file():
        seconds = json.loads(meta.read_text())["seconds"] if meta.is_file() else None
        return model, seconds
    config = out / f"{name}.config.yml"
    config.write_text(
        yaml.safe_dump(seeded_config(project, seed), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    with models.training_slot(project, progress, wait_for_others):
        progress("training", 5, f"training seed {seed} ({model.name})")
        command = [
            str(project.rasa_bin),
            *("train", "--config", str(config), "--out", str(out)),
            *("--fixed-model-name", name),
        ]
        code, seconds, tail = models.run_training(project, command, out / f"{name}.log", progress)
    if code != 0 or not model.is_file():
        raise StaffOpsError(
            f"学習に失敗しました（seed {seed}）: {out / name}.log",
            f"rasa train failed for seed {seed} (exit {code}); see {out / name}.log",
            tail=tail[-10:],
        )
    meta.write_text(json.dumps({"seed": seed, "seconds": seconds, "data": digest}))
    return model, seconds


def _sd(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def profile_of(
    evaluations: list[dict[str, Any]], names: list[str], seeds: list[int]
) -> dict[str, dict[str, Any]]:
    """Per set: F1 mean and sd across seeds per intent and for macro-F1, disagreement."""
    sets: dict[str, dict[str, Any]] = {}
    for name in names:
        runs = [e["sets"][name] for e in evaluations]
        gold = runs[0]["gold"]
        if not gold:  # a set file with no labelled message
            continue
        per_intent = {}
        for intent, first in runs[0]["per_intent"].items():
            values = [r["per_intent"][intent]["f1"] for r in runs]
            pairs = itertools.combinations(values, 2)
            per_intent[intent] = {
                "support": first["support"],
                "mean": round(statistics.fmean(values), 4),
                "sd": round(_sd(values), 4),
                "min": round(min(values), 4),
                "max": round(max(values), 4),
                "max_pair_change": round(max((abs(a - b) for a, b in pairs), default=0.0), 4),
                "f1": {str(s): round(v, 4) for s, v in zip(seeds, values, strict=True)},
            }
        macros = [r["macro_f1"] for r in runs]
        disagree = sum(1 for i in range(len(gold)) if len({r["pred"][i] for r in runs}) > 1)
        sets[name] = {
            "sha256": runs[0]["sha256"],
            "messages": len(gold),
            "macro_f1": {
                "mean": round(statistics.fmean(macros), 4),
                "sd": round(_sd(macros), 4),
                "by_seed": {str(s): round(v, 4) for s, v in zip(seeds, macros, strict=True)},
            },
            "disagreement": round(disagree / len(gold), 4) if gold else 0.0,
            "per_intent": per_intent,
        }
    return sets


def pair_check(
    evaluations: list[dict[str, Any]], names: list[str], seeds: list[int], profile: dict[str, Any]
) -> list[dict[str, Any]]:
    """The gate's decision on every pair of seed models (same data: should be accepted)."""
    noise = gate.NoiseProfile(profile)
    found = []
    for (i, a), (j, b) in itertools.combinations(enumerate(evaluations), 2):
        paired = [
            gate.PairedSet(n, a["sets"][n]["gold"], a["sets"][n]["pred"], b["sets"][n]["pred"])
            for n in names
            if a["sets"][n]["gold"]
        ]
        decision = gate.decide(paired, noise)
        first = decision.sets[0]
        found.append(
            {
                "live_seed": seeds[i],
                "candidate_seed": seeds[j],
                "ok": decision.ok,
                # the gate before this one: macro-F1 must not drop, no intent by more than 0.1
                "old_gate_ok": first.macro.delta >= -1e-9
                and all(r.delta >= -0.1 - 1e-9 for r in first.rows),
                "warnings": len(decision.warnings()),
                # the bootstrap of a seed pair against the profile's √2·sd (docs: why not add)
                "mean_bootstrap_sd": round(statistics.fmean(r.se_test for r in first.rows), 4),
                "mean_seed_pair_sd": round(
                    statistics.fmean(2**0.5 * r.sd_seed for r in first.rows), 4
                ),
                "macro_change": round(decision.sets[0].macro.delta, 4),
                "largest_intent_drop": round(
                    min((r.delta for s in decision.sets for r in s.rows), default=0.0), 4
                ),
                "drops": [f"{s.name}: {f.intent or 'macro-F1'}" for s, f in decision.drops()],
            }
        )
    return found


def measure(
    root=None,
    seeds: list[int] | tuple[int, ...] = (1, 2, 3),
    *,
    sets=None,
    write: bool = True,
    progress: Progress = _noop,
    wait_for_others: bool = True,
) -> dict[str, Any]:
    """Train the current data with each seed, evaluate, and (write) the noise profile."""
    project = Project.at(root)
    seeds = list(seeds)
    if len(seeds) < 2:
        raise StaffOpsError("seed は2つ以上必要です", "at least two seeds are needed")
    paths = project.eval_sets(sets)
    names = [project.set_name(p) for p in paths]
    digest = models.data_digest(project)
    trained = []
    for seed in seeds:
        trained.append(train_seed(project, seed, digest, progress, wait_for_others))
    evaluations = []
    for (model, _), seed in zip(trained, seeds, strict=True):
        progress("evaluating", None, f"evaluating seed {seed}")
        evaluations.append(models.evaluate(model, project, sets=paths))
    profile: dict[str, Any] = {
        "version": 1,
        "measured_at": audit.now(),
        "data": digest,
        "seeds": seeds,
        "seeded": sorted(SEEDED),
        "train_seconds": [s for _, s in trained],
        "models": [str(m.relative_to(project.root)) for m, _ in trained],
        "sets": profile_of(evaluations, names, seeds),
    }
    noise = gate.NoiseProfile(profile)
    profile["pooled_c"] = round(noise.c, 4)
    profile["pair_check"] = pair_check(evaluations, names, seeds, profile)
    if write:
        out = project.root / "staffops" / "seed_noise.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(profile, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        profile["written"] = str(out)
    return profile


def table(profile: dict[str, Any]) -> str:
    """The profile for engineers: per set and intent, F1 across seeds."""
    lines = [
        f"seed noise of data {profile['data']}, seeds {profile['seeds']} "
        f"(training {profile['train_seconds']} s); pooled c = {profile['pooled_c']} "
        "(sd ≈ c/√support for an intent never measured)"
    ]
    for name, s in profile["sets"].items():
        lines.append(
            f"\n{name}: {s['messages']} messages; seeds disagree on {s['disagreement']:.1%} of them"
        )
        lines.append(
            f"{'intent':30} {'n':>3} {'mean':>6} {'sd':>6} {'min':>6} {'max':>6} {'pair':>6}"
        )
        for intent, r in s["per_intent"].items():
            lines.append(
                f"{intent:30} {r['support']:3d} {r['mean']:6.3f} {r['sd']:6.3f} "
                f"{r['min']:6.3f} {r['max']:6.3f} {r['max_pair_change']:6.3f}"
            )
        m = s["macro_f1"]
        lines.append(
            f"{'macro-F1':30} {'':3} {m['mean']:6.3f} {m['sd']:6.3f}   by seed {m['by_seed']}"
        )
    checks = profile.get("pair_check") or []
    refused = [c for c in checks if not c["ok"]]
    old_refused = [c for c in checks if not c.get("old_gate_ok", True)]
    lines.append(
        f"\ngate on the {len(checks)} pairs of seed models (same data): "
        f"{len(checks) - len(refused)} accepted, {len(refused)} refused "
        f"(the former fixed-margin gate would have refused {len(old_refused)})"
    )
    for c in checks:
        lines.append(
            f"  seed {c['live_seed']} → seed {c['candidate_seed']}: "
            f"{'accepted' if c['ok'] else 'REFUSED ' + ', '.join(c['drops'])}"
            f"{' (former gate: refused)' if not c.get('old_gate_ok', True) else ''}; macro "
            f"{c['macro_change']:+.3f}, largest intent drop {c['largest_intent_drop']:+.3f}"
        )
    if profile.get("written"):
        lines.append(f"\nwritten: {profile['written']}")
    return "\n".join(lines)
