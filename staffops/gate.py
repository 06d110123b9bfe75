"""The promotion gate: is the candidate worse than the live model, beyond the noise?

Two models are compared on the same labelled messages (the held-out set,
the blind set...). An F1 figure on 10–20 messages per intent moves by
±0.05 or more between two trainings of the same data. Two kinds of noise,
each measured for what it is and each with its own test:

- training noise: DIET's random seed and the order of the data (a staff
  change reshuffles it). Training the candidate several times would cost a
  training each, so it is measured once for this pipeline and data
  (staffops.noise, `python -m staffops noise`) and stored as a profile: the
  standard deviation of each intent's F1 across seeds, on each set. Two
  trainings of equal quality differ by N(0, 2·sd_seed²) on that set, so the
  band of a figure is z·√2·sd_seed, with z for a family-wise error of
  `alpha` over every gated figure (Bonferroni): a retraining that changes
  nothing real is refused with probability at most about alpha, however
  many intents there are. Test 1: change < −(band + margin).
- test-set sampling: which messages happen to be in the set. A paired,
  stratified bootstrap resamples the set's messages with replacement within
  each intent (supports stay as designed) and scores both models on the
  same resample; the 2.5–97.5 % quantiles of the differences are the 95 %
  interval of the change. Test 2: the whole interval is below −margin, so
  the drop is not an accident of the few messages in the set.

A figure is a drop, and the candidate refused, when both tests say so
("beyond the training noise, and on more than these few messages"). Either
alone is shown as a warning. Why not one interval with both variances
added: the two models' chance disagreements are the training noise, so
their bootstrap spread already contains it (a pair of seeds of this project
gives a bootstrap se close to √2·sd_seed: docs/promotion-gate.md), and a
sum counts it twice; and a bootstrap around an observed drop is wide
exactly when the drop is large (six of twelve messages lost: se 0.14), so
one interval with a family-wise z lets real drops through. Intents with
fewer than `min_support` messages in a set are shown but not judged one by
one (they count in macro-F1, which is judged per set).

Plain Python (random, statistics): it runs in the gateway's environment too.
"""

from __future__ import annotations

import json
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from staffops.scoring import counted, f1

ALPHA = 0.05
MARGIN = 0.01
MIN_SUPPORT = 5
RESAMPLES = 2000
SEED = 17

# Verdicts of one figure.
DROP, WARN, BETTER, SAME, FEW = "drop", "warn", "better", "same", "few"


# ---------------------------------------------------------------- bootstrap


@dataclass
class Spread:
    """The bootstrap distribution of one difference (candidate − live)."""

    sd: float
    low: float  # 2.5 % quantile
    high: float  # 97.5 % quantile


def _quantile(ordered: list[float], q: float) -> float:
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _spread(values: list[float]) -> Spread:
    ordered = sorted(values)
    return Spread(statistics.pstdev(values), _quantile(ordered, 0.025), _quantile(ordered, 0.975))


def paired_bootstrap(
    gold: Sequence[str],
    live: Sequence[str],
    candidate: Sequence[str],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict[str, Any]:
    """Spread of the differences in F1 per gold label and in macro-F1, candidate − live.

    Stratified by gold label (each intent keeps its number of messages);
    both models are scored on the same resampled messages. Deterministic
    for a given seed. {"per_intent": {label: Spread}, "macro": Spread}.
    """
    if not (len(gold) == len(live) == len(candidate)) or not gold:
        raise ValueError("the bootstrap needs the same non-empty messages for both models")
    labels = sorted(set(gold))
    index = {label: i for i, label in enumerate(labels)}
    live, candidate = counted(gold, live), counted(gold, candidate)
    strata: list[list[tuple[int, int, int, bool, bool]]] = [[] for _ in labels]
    for g, a, b in zip(gold, live, candidate, strict=True):
        gi = index[g]
        # (gold, live's label or -1 when outside the set's labels, candidate's, right?, right?)
        strata[gi].append((gi, index.get(a, -1), index.get(b, -1), a == g, b == g))
    support = [len(s) for s in strata]
    n_labels = len(labels)
    rng = random.Random(seed)
    deltas: list[list[float]] = [[] for _ in labels]
    macro: list[float] = []
    for _ in range(resamples):
        tp_a = [0] * n_labels
        tp_b = [0] * n_labels
        pc_a = [0] * n_labels
        pc_b = [0] * n_labels
        for members in strata:
            for gi, ai, bi, ok_a, ok_b in rng.choices(members, k=len(members)):
                if ok_a:
                    tp_a[gi] += 1
                if ok_b:
                    tp_b[gi] += 1
                if ai >= 0:
                    pc_a[ai] += 1
                if bi >= 0:
                    pc_b[bi] += 1
        total = 0.0
        for i in range(n_labels):
            d = f1(tp_b[i], support[i], pc_b[i]) - f1(tp_a[i], support[i], pc_a[i])
            deltas[i].append(d)
            total += d
        macro.append(total / n_labels)
    return {
        "per_intent": {label: _spread(deltas[i]) for i, label in enumerate(labels)},
        "macro": _spread(macro),
    }


# ---------------------------------------------------------------- noise profile


class NoiseProfile:
    """Training (seed) noise of F1 per set and intent, from `python -m staffops noise`.

    A measured intent's standard deviation comes from a few seeds only, so it
    is shrunk towards the pooled figure for its support (sd ≈ c/√support,
    c pooled over every measured intent) with the weight of `prior_weight`
    seeds; an intent or set never measured (a new topic, the blind set
    before its first measurement) gets the pooled figure.
    """

    prior_weight = 4.0
    # Used only without any profile: c measured on this project's held-out
    # set (docs/promotion-gate.md), so that a fresh checkout is not strict.
    default_c = 0.2
    min_c = 0.05

    def __init__(self, data: dict[str, Any] | None):
        self.data = data or {}
        self.sets: dict[str, Any] = self.data.get("sets") or {}
        self.seeds = len(self.data.get("seeds") or [])
        pooled = [
            (row["sd"], row["support"])
            for measured in self.sets.values()
            for row in (measured.get("per_intent") or {}).values()
            if row.get("support")
        ]
        if pooled:
            # A few seeds may all agree; training is never noiseless.
            self.c = max((sum(sd * sd * n for sd, n in pooled) / len(pooled)) ** 0.5, self.min_c)
        else:
            self.c = self.default_c

    @classmethod
    def load(cls, path) -> NoiseProfile:
        """The profile stored at `path` (JSON); an empty one when the file is missing."""
        path = Path(path)
        if not path.is_file():
            return cls(None)
        return cls(json.loads(path.read_text(encoding="utf-8")))

    @property
    def measured(self) -> bool:
        return bool(self.sets) and self.seeds >= 2

    def _shrink(self, sd: float, prior: float) -> float:
        dof = max(self.seeds - 1, 0)
        w = self.prior_weight
        return ((w * prior * prior + dof * sd * sd) / (w + dof)) ** 0.5

    def intent_sd(self, set_name: str, intent: str, support: int) -> float:
        prior = self.c / max(support, 1) ** 0.5
        row = ((self.sets.get(set_name) or {}).get("per_intent") or {}).get(intent)
        if row is None or not self.measured:
            return prior
        # measured on a set of another size (messages added since): scaled like c/√support
        scale = (row.get("support") or support) / max(support, 1)
        return self._shrink(row["sd"] * scale**0.5, prior)

    def macro_sd(self, set_name: str, supports: dict[str, int]) -> float:
        # Prior: independent intents, each with its own sd.
        k = max(len(supports), 1)
        prior = sum(self.intent_sd(set_name, i, n) ** 2 for i, n in supports.items()) ** 0.5 / k
        measured = (self.sets.get(set_name) or {}).get("macro_f1")
        if measured is None or not self.measured:
            return prior
        return self._shrink(measured["sd"], prior)

    def summary(self) -> dict[str, Any]:
        return {
            "measured": self.measured,
            "measured_at": self.data.get("measured_at"),
            "seeds": self.data.get("seeds"),
            "data": self.data.get("data"),
            "c": round(self.c, 4),
            "sets": {
                name: {"macro_sd": (s.get("macro_f1") or {}).get("sd")}
                for name, s in self.sets.items()
            },
        }


# ---------------------------------------------------------------- the decision


@dataclass
class Figure:
    """One compared figure: an intent's F1 in a set, or a set's macro-F1."""

    intent: str  # "" for macro-F1
    label: str  # Japanese name for the pages
    support: int
    live: float
    candidate: float
    delta: float  # candidate − live
    ci_low: float  # 95 % interval of delta over the set's messages (paired bootstrap)
    ci_high: float
    se_test: float  # the bootstrap's standard deviation of delta
    sd_seed: float  # training noise of one model's figure (profile)
    band: float  # z·√2·sd_seed: what two trainings of equal quality may differ by
    verdict: str


@dataclass
class SetResult:
    name: str
    title: str  # Japanese, for the pages
    messages: int
    macro: Figure
    rows: list[Figure] = field(default_factory=list)
    seed_measured: bool = False


@dataclass
class Decision:
    ok: bool
    alpha: float
    z: float
    tests: int
    margin: float
    min_support: int
    resamples: int
    seed: int
    sets: list[SetResult]
    noise: dict[str, Any]

    def _having(self, verdict: str) -> list[tuple[SetResult, Figure]]:
        found = [(s, s.macro) for s in self.sets if s.macro.verdict == verdict]
        found += [(s, r) for s in self.sets for r in s.rows if r.verdict == verdict]
        return found

    def drops(self) -> list[tuple[SetResult, Figure]]:
        return self._having(DROP)

    def warnings(self) -> list[tuple[SetResult, Figure]]:
        return self._having(WARN)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PairedSet:
    """The labels of one set's messages, and what each model predicted for them."""

    name: str
    gold: list[str]
    live: list[str]
    candidate: list[str]


def set_title(name: str) -> str:
    if name.endswith("heldout/nlu.yml"):
        return "評価用データ（学習に使っていない文）"
    if "blind" in name:
        return "ブラインドテスト（職員にも中身を見せない文）"
    return f"評価用データ（{name.rsplit('/', 1)[-1]}）"


def z_for(alpha: float, tests: int) -> float:
    """One-sided normal quantile for a family-wise error of alpha over `tests` figures."""
    return statistics.NormalDist().inv_cdf(1 - alpha / max(tests, 1))


def _verdict(delta: float, band: float, ci: Spread, margin: float) -> str:
    beyond_noise, beyond_set = delta < -(band + margin), ci.high < -margin
    if beyond_noise and beyond_set:
        return DROP
    if beyond_noise or beyond_set:
        return WARN
    if delta > band + margin and ci.low > margin:
        return BETTER
    return SAME


def decide(
    sets: Sequence[PairedSet],
    profile: NoiseProfile | None = None,
    *,
    alpha: float = ALPHA,
    margin: float = MARGIN,
    min_support: int = MIN_SUPPORT,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    label: Callable[[str], str] = str,
) -> Decision:
    """The gate's decision over every set: refused when any gated figure drops beyond the noise."""
    profile = profile or NoiseProfile(None)
    prepared = []
    for paired in sets:
        from staffops.scoring import score

        live, cand = score(paired.gold, paired.live), score(paired.gold, paired.candidate)
        spread = paired_bootstrap(
            paired.gold, paired.live, paired.candidate, resamples=resamples, seed=seed
        )
        prepared.append((paired, live, cand, spread))
    tests = sum(
        1 + sum(1 for m in live["per_intent"].values() if m["support"] >= min_support)
        for _, live, _, _ in prepared
    )
    z = z_for(alpha, tests)

    def figure(intent, name, support, old, new, spread: Spread, sd_seed, gated=True):
        delta = new - old
        band = z * 2**0.5 * sd_seed
        verdict = _verdict(delta, band, spread, margin) if gated else FEW
        return Figure(
            intent, name, support, old, new, delta, spread.low, spread.high, spread.sd,
            sd_seed, band, verdict,
        )  # fmt: skip

    results = []
    for paired, live, cand, spread in prepared:
        supports = {i: m["support"] for i, m in live["per_intent"].items()}
        rows = [
            figure(
                intent,
                label(intent),
                supports[intent],
                live["per_intent"][intent]["f1"],
                cand["per_intent"][intent]["f1"],
                spread["per_intent"][intent],
                profile.intent_sd(paired.name, intent, supports[intent]),
                gated=supports[intent] >= min_support,
            )
            for intent in sorted(supports)
        ]
        macro = figure(
            "",
            "全体（全話題の平均）",
            len(paired.gold),
            live["macro_f1"],
            cand["macro_f1"],
            spread["macro"],
            profile.macro_sd(paired.name, supports),
        )
        measured = paired.name in profile.sets and profile.measured
        results.append(
            SetResult(paired.name, set_title(paired.name), len(paired.gold), macro, rows, measured)
        )
    decision = Decision(
        True, alpha, z, tests, margin, min_support, resamples, seed, results, profile.summary()
    )
    decision.ok = not decision.drops()
    return decision


# ---------------------------------------------------------------- words for staff


VERDICT_JA = {
    DROP: "下がった（揺れを超える）",
    WARN: "下がった可能性あり（公開は止めない）",
    BETTER: "良くなった",
    SAME: "揺れの範囲内",
    FEW: "文が少ないため判定なし",
}


def points(value: float) -> str:
    """An F1 as a mark out of 100 (0.934 → 「93点」)."""
    return f"{round(value * 100)}点"


def change(value: float) -> str:
    """A difference in marks with its sign (−0.053 → 「−5点」; a rounded 0 has no sign)."""
    marks = round(value * 100)
    if marks == 0:
        return "±0点"
    return f"{'+' if marks > 0 else '−'}{abs(marks)}点"


def noise(band: float) -> str:
    return f"±{max(round(band * 100), 1)}点"


def date_ja(iso: str | None) -> str:
    """An ISO time's date as staff read it (「2026年12月2日」)."""
    try:
        year, month, day = (int(part) for part in (iso or "")[:10].split("-"))
    except ValueError:
        return iso or ""
    return f"{year}年{month}月{day}日"


def interval(low: float, high: float) -> str:
    """An interval of a change in marks (「−60〜−35点」, 「−27〜0点」)."""

    def end(value: float) -> str:
        marks = round(value * 100)
        return f"{'+' if marks > 0 else '−' if marks < 0 else ''}{abs(marks)}"

    return f"{end(low)}〜{end(high)}点"


def _what(set_: SetResult, fig: Figure, many_sets: bool) -> str:
    where = f"{set_.title}の" if many_sets else ""
    if fig.intent:
        return f"「{fig.label}」（{where}{fig.support}文）"
    return f"{where}全体の平均"


def _line(set_: SetResult, fig: Figure, many_sets: bool) -> str:
    return (
        f"{_what(set_, fig, many_sets)}：{points(fig.live)} → {points(fig.candidate)}"
        f"（{change(fig.delta)}）。学習し直すだけで起こる揺れは{noise(fig.band)}までなので、"
        "揺れでは説明できない下がり方です。"
    )


def explain_ja(decision: Decision) -> list[str]:
    """The decision in plain Japanese, first line first: what happened, then each reason."""
    many = len(decision.sets) > 1
    drops = decision.drops()
    lines: list[str] = []
    if drops:
        lines.append(
            "候補のモデルは、運用中のモデルより成績が下がったため、そのままでは公開できません。"
            "下がったのは次の点です。"
        )
        lines += [_line(s, f, many) for s, f in drops]
        warned = decision.warnings()
        if warned:
            lines.append(
                "ほかに、下がっている可能性がある点："
                + "、".join(f"{_what(s, r, many)}{change(r.delta)}" for s, r in warned)
                + "。"
            )
        lines.append(
            "その話題の例文が減っていないか、似た話題とまぎらわしい例文を加えていないか"
            "確認してください。理由があって公開する場合は、理由を書いて公開できます（記録に残ります）。"
        )
        return lines
    first = decision.sets[0]
    lines.append(
        f"公開して問題ありません。{first.title}で全体の平均は "
        f"{points(first.macro.live)} → {points(first.macro.candidate)}"
        f"（{change(first.macro.delta)}、揺れ{noise(first.macro.band)}）です。"
        "揺れを超えて下がった話題はありません。"
    )
    warned = decision.warnings()
    if warned:
        names = "、".join(
            f"{_what(s, r, many)}{change(r.delta)}"
            for s, r in sorted(warned, key=lambda p: p[1].delta)
        )
        lines.append(
            f"ただし、次の点は下がっている可能性があります（はっきり下がったとは言えないため、"
            f"公開は止めません）：{names}。公開したあと、受信箱で様子を見てください。"
        )
    within = sorted(
        ((s, r) for s in decision.sets for r in s.rows if r.verdict == SAME and r.delta < -0.005),
        key=lambda pair: pair[1].delta,
    )
    if within:
        names = "、".join(
            f"「{r.label}」{change(r.delta)}（揺れ{noise(r.band)}）" for _, r in within[:3]
        )
        lines.append(f"下がって見える話題もありますが、学習し直すたびの揺れの範囲内です：{names}。")
    better = [r for s in decision.sets for r in s.rows if r.verdict == BETTER]
    if better:
        lines.append(
            "揺れを超えて良くなった話題：" + "、".join(f"「{r.label}」" for r in better[:5])
        )
    few = [r for s in decision.sets for r in s.rows if r.verdict == FEW]
    if few:
        lines.append(
            f"評価用の文が{decision.min_support}文未満の話題（{len(few)}件）は、"
            "ひとつずつの判定には使っていません（全体の平均には含みます）。"
        )
    return lines


def explain_en(decision: Decision) -> list[str]:
    """The same for engineers' logs and the command line (intent ids; figures only)."""

    def line(s: SetResult, f: Figure, what: str) -> str:
        return (
            f"{what} {s.name}: {f.intent or 'macro-F1'} {f.live:.3f} -> {f.candidate:.3f} "
            f"({f.delta:+.3f}; 95% [{f.ci_low:+.3f}, {f.ci_high:+.3f}]; training noise "
            f"±{f.band:.3f}; margin {decision.margin})"
        )

    out = [line(s, f, "drop") for s, f in decision.drops()]
    if not out:
        first = decision.sets[0]
        out.append(
            f"no figure drops beyond the noise ({decision.tests} figures, z {decision.z:.2f}); "
            f"{first.name} macro-F1 {first.macro.live:.3f} -> {first.macro.candidate:.3f} "
            f"({first.macro.delta:+.3f}, training noise ±{first.macro.band:.3f})"
        )
    out += [line(s, f, "warning") for s, f in decision.warnings()]
    return out
