"""Held-out NLU quality: per-intent precision, recall, F1 and macro-F1.

Parses every message of chatbot/heldout/nlu.yml (never used for training)
with the GiNZA model and, side by side, with Rasa's stock pipeline, prints
both tables, writes a confusion-matrix image per model, and exits 1 when the
GiNZA macro-F1 is below --floor.

A prediction of nlu_fallback for an out_of_scope message counts as right:
both answer "I cannot help with that; here is what I can do".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Rasa logs every parse at debug level through structlog; keep the tables readable.
os.environ.setdefault("LOG_LEVEL", "WARNING")

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "chatbot" / "heldout" / "nlu.yml"
# The models name their custom components as `components.<module>.<Class>`.
sys.path.insert(0, str(ROOT / "chatbot"))


def load_heldout() -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(HELDOUT))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


async def predict(model: str, texts: list[str]) -> list[str]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)
        out.append((parsed.get("intent") or {}).get("name") or "nlu_fallback")
    return out


def score(gold: list[str], pred: list[str]) -> dict:
    from sklearn.metrics import precision_recall_fscore_support

    pred = [
        "out_of_scope" if g == "out_of_scope" and p == "nlu_fallback" else p
        for g, p in zip(gold, pred, strict=True)
    ]
    labels = sorted(set(gold))
    p, r, f, n = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    per = {
        lab: {"precision": p[i], "recall": r[i], "f1": f[i], "support": int(n[i])}
        for i, lab in enumerate(labels)
    }
    macro = sum(f) / len(f)
    accuracy = sum(g == q for g, q in zip(gold, pred, strict=True)) / len(gold)
    return {"per_intent": per, "macro_f1": macro, "accuracy": accuracy, "pred": pred}


def confusion_png(gold: list[str], pred: list[str], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    labels = sorted(set(gold) | set(pred))
    fig, ax = plt.subplots(figsize=(14, 14))
    ConfusionMatrixDisplay.from_predictions(
        gold, pred, labels=labels, ax=ax, colorbar=False, xticks_rotation="vertical"
    )
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_json(path: Path, pairs: list, runs: dict, results: dict) -> None:
    """Every figure of every model, for tools (staffops compares a candidate with the live model)."""
    import hashlib

    figures = {
        "heldout": str(HELDOUT.relative_to(ROOT)),
        "heldout_sha256": hashlib.sha256(HELDOUT.read_bytes()).hexdigest(),
        "messages": len(pairs),
        "models": {
            name: {
                "model": str(Path(runs[name]).resolve()),
                "macro_f1": float(res["macro_f1"]),
                "accuracy": float(res["accuracy"]),
                "per_intent": {
                    intent: {k: int(v) if k == "support" else float(v) for k, v in m.items()}
                    for intent, m in res["per_intent"].items()
                },
            }
            for name, res in results.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--stock", help="model trained with config_stock.yml")
    parser.add_argument("--out", default="results/heldout")
    parser.add_argument("--floor", type=float, default=0.0)
    parser.add_argument(
        "--json-out", help="also write every figure (per-intent P/R/F1, macro-F1) as JSON here"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = load_heldout()
    texts = [t for t, _ in pairs]
    gold = [g for _, g in pairs]
    runs = {"ginza": args.model}
    if args.stock:
        runs["stock"] = args.stock
    results = {}
    for name, model in runs.items():
        pred = asyncio.run(predict(model, texts))
        results[name] = score(gold, pred)
        confusion_png(
            gold, results[name]["pred"], f"{name}: held-out intents", out / f"confusion_{name}.png"
        )
        errors = [
            {"text": t, "gold": g, "pred": p}
            for t, g, p in zip(texts, gold, results[name]["pred"], strict=True)
            if g != p
        ]
        (out / f"errors_{name}.json").write_text(
            json.dumps(errors, ensure_ascii=False, indent=1), encoding="utf-8"
        )

    print(
        f"Held-out set: {len(pairs)} messages, {len(set(gold))} intents ({HELDOUT.relative_to(ROOT)})"
    )
    header = f"{'intent':28} " + " ".join(
        f"{n + ' P':>8} {n + ' R':>8} {n + ' F1':>9}" for n in results
    )
    print(header)
    for intent in sorted(set(gold)):
        cells = []
        for res in results.values():
            m = res["per_intent"][intent]
            cells.append(f"{m['precision']:8.3f} {m['recall']:8.3f} {m['f1']:9.3f}")
        print(f"{intent:28} " + " ".join(cells))
    for name, res in results.items():
        print(
            f"{name:6} pipeline: macro-F1 {res['macro_f1']:.3f}  accuracy {res['accuracy']:.3f}"
            f"  (confusion matrix: {out / f'confusion_{name}.png'})"
        )
    summary = {
        n: {"macro_f1": r["macro_f1"], "accuracy": r["accuracy"]} for n, r in results.items()
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    if args.json_out:
        write_json(Path(args.json_out), pairs, runs, results)
    if results["ginza"]["macro_f1"] < args.floor:
        print(
            f"FAIL: GiNZA macro-F1 {results['ginza']['macro_f1']:.3f} is below the floor {args.floor}"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
