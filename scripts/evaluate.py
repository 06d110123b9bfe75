"""NLU quality on labelled sets: per-intent precision, recall, F1 and macro-F1.

Parses every message of the held-out set chatbot/heldout/nlu.yml (never used
for training), and of any other labelled set given with --set, with the
GiNZA model and, side by side, with Rasa's stock pipeline; prints the
tables, writes a confusion-matrix image and the misclassified messages of
the held-out set per model, and exits 1 when the GiNZA macro-F1 on the
held-out set is below --floor.

A set is a Rasa NLU file (`nlu:` blocks, as the held-out set) or a list of
items with the message `text` and the expected `intent` (the blind set in
chatbot/blind/: `[{text, intent}, ...]`, or `expect: [labels]` when several
answers are right; items without a label are left out). Labels are full
intent names: a retrieval intent is scored with its response key
(`faq/nise_keisatsu`; staffops.scoring). A missing set is skipped. Of a set
other than the held-out set only figures are printed or written, never a
message (the blind set stays unseen by staff and engineers alike).

A prediction of nlu_fallback for an out_of_scope message counts as right:
both answer "I cannot help with that; here is what I can do".
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
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

from staffops.scoring import full_label, score  # noqa: E402


def set_name(path: Path) -> str:
    """A set's name: its path inside the project, else as given."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _items(data) -> list:
    """The items of a set file: a bare list, or the first list of mappings in it."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("items", "messages", "examples", "cases"):
            if isinstance(data.get(key), list):
                return data[key]
        for value in data.values():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                return value
    return []


def _accepted(item: dict) -> tuple[str, ...]:
    """The labels an item accepts: `intent`, or the list `expect` (first one preferred)."""
    if item.get("intent"):
        return (str(item["intent"]).strip(),)
    expect = item.get("expect")
    if isinstance(expect, str):
        expect = [expect]
    return tuple(str(e).strip() for e in expect or [] if e)


def load_set(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(text, accepted labels) of every labelled message of one set file.

    A Rasa NLU file gives one full label per example (`faq/nise_keisatsu`); a list
    of items gives `intent`, or `expect` (several acceptable labels: the first is
    the message's label, and a prediction of any of them counts as it). Items
    without a label (whole conversations) are left out.
    """
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "nlu" in data:
        from rasa.shared.nlu.training_data.loading import load_data

        examples = load_data(str(path)).intent_examples
        return [(m.get("text"), (m.get_full_intent(),)) for m in examples]
    pairs = []
    for item in _items(data):
        if isinstance(item, dict) and item.get("text") and _accepted(item):
            pairs.append((str(item["text"]), _accepted(item)))
    return pairs


def as_scored(pred: list[str], accepted: list[tuple[str, ...]]) -> list[str]:
    """A prediction among a message's accepted labels counts as its (first) label."""
    return [a[0] if p in a else p for p, a in zip(pred, accepted, strict=True)]


def load_heldout() -> list[tuple[str, str]]:
    return [(text, accepted[0]) for text, accepted in load_set(HELDOUT)]


async def predict(model: str, texts: list[str]) -> list[str]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    return [full_label(await agent.parse_message(text)) for text in texts]


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


def _figures(res: dict) -> dict:
    return {
        "macro_f1": float(res["macro_f1"]),
        "accuracy": float(res["accuracy"]),
        "per_intent": {
            intent: {k: int(v) if k == "support" else float(v) for k, v in m.items()}
            for intent, m in res["per_intent"].items()
        },
    }


def write_json(path: Path, sets: dict, runs: dict, results: dict, empty: dict) -> None:
    """Every figure of every model on every set, and the predicted label of each message
    (labels only, in the set's order: staffops' paired bootstrap). The first set's
    figures are repeated at the top level of each model (older readers). A set file
    without a labelled message is listed with 0 messages (so that its hash is known)."""
    first = next(iter(sets))
    nothing = {"macro_f1": 0.0, "accuracy": 0.0, "per_intent": {}, "pred": []}
    figures = {
        "heldout": first,
        "heldout_sha256": sets[first]["sha256"],
        "messages": len(sets[first]["gold"]),
        "sets": {
            **{
                name: {"sha256": s["sha256"], "messages": len(s["gold"]), "gold": s["gold"]}
                for name, s in sets.items()
            },
            **{name: {"sha256": sha, "messages": 0, "gold": []} for name, sha in empty.items()},
        },
        "models": {
            name: {
                "model": str(Path(runs[name]).resolve()),
                **_figures(res[first]),
                "sets": {
                    **{
                        set_: {**_figures(r), "pred": [str(p) for p in r["raw"]]}
                        for set_, r in res.items()
                    },
                    **dict.fromkeys(empty, nothing),
                },
            }
            for name, res in results.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")


def print_table(name: str, messages: int, results: dict) -> None:
    labels = sorted(next(iter(results.values()))["per_intent"])
    print(f"\n{name}: {messages} messages, {len(labels)} intents")
    print(
        f"{'intent':28} " + " ".join(f"{n + ' P':>8} {n + ' R':>8} {n + ' F1':>9}" for n in results)
    )
    for intent in labels:
        cells = []
        for res in results.values():
            m = res["per_intent"][intent]
            cells.append(f"{m['precision']:8.3f} {m['recall']:8.3f} {m['f1']:9.3f}")
        print(f"{intent:28} " + " ".join(cells))
    for model, res in results.items():
        print(f"{model:6} pipeline: macro-F1 {res['macro_f1']:.3f}  accuracy {res['accuracy']:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--stock", help="model trained with config_stock.yml")
    parser.add_argument("--out", default="results/heldout")
    parser.add_argument("--floor", type=float, default=0.0)
    parser.add_argument(
        "--set",
        action="append",
        dest="sets",
        metavar="PATH",
        help="a labelled set (repeat; default: the held-out set); missing files are skipped",
    )
    parser.add_argument(
        "--json-out", help="also write every figure and the predicted labels as JSON here"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sets, empty = {}, {}
    for path in [Path(p) for p in args.sets or [HELDOUT]]:
        if not path.is_file():
            print(f"(skipped: no set {set_name(path)})")
            continue
        pairs = load_set(path)
        if not pairs:
            print(f"(skipped: no labelled message in {set_name(path)})")
            empty[set_name(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            continue
        sets[set_name(path)] = {
            "path": path,
            "texts": [t for t, _ in pairs],
            "accepted": [a for _, a in pairs],
            "gold": [a[0] for _, a in pairs],
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
    if not sets:
        print("no labelled set to evaluate on")
        return 1
    runs = {"ginza": args.model}
    if args.stock:
        runs["stock"] = args.stock
    results: dict[str, dict] = {name: {} for name in runs}
    for name, model in runs.items():
        texts = [t for s in sets.values() for t in s["texts"]]
        pred = asyncio.run(predict(model, texts))
        start = 0
        for set_, s in sets.items():
            raw = as_scored(pred[start : start + len(s["texts"])], s["accepted"])
            start += len(s["texts"])
            results[name][set_] = {**score(s["gold"], raw), "raw": raw}
        # Messages and their errors are written for the held-out set only.
        heldout = set_name(HELDOUT)
        if heldout in sets:
            s, res = sets[heldout], results[name][heldout]
            confusion_png(
                s["gold"], res["pred"], f"{name}: held-out intents", out / f"confusion_{name}.png"
            )
            errors = [
                {"text": t, "gold": g, "pred": p}
                for t, g, p in zip(s["texts"], s["gold"], res["pred"], strict=True)
                if g != p
            ]
            (out / f"errors_{name}.json").write_text(
                json.dumps(errors, ensure_ascii=False, indent=1), encoding="utf-8"
            )

    for set_, s in sets.items():
        print_table(set_, len(s["gold"]), {name: results[name][set_] for name in runs})
    first = next(iter(sets))
    summary = {
        n: {"macro_f1": r[first]["macro_f1"], "accuracy": r[first]["accuracy"]}
        for n, r in results.items()
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    if args.json_out:
        write_json(Path(args.json_out), sets, runs, results, empty)
    ginza = results["ginza"][first]["macro_f1"]
    if ginza < args.floor:
        print(f"FAIL: GiNZA macro-F1 {ginza:.3f} on {first} is below the floor {args.floor}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
