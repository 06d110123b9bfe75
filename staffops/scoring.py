"""Scoring intent predictions: the labels compared and per-intent F1.

Plain Python (no Rasa, no numpy): scripts/evaluate.py (Rasa environment)
uses it to turn Rasa's parse output into labels and figures, and the
promotion gate (staffops.gate, also run from the gateway's environment)
re-scores the same labels thousands of times in its bootstrap.

Labels are full intent names. A retrieval intent is scored with its
response key, as written in the training data (`faq/nise_keisatsu`): DIET
classifies the message as `faq`, and the ResponseSelector picks the key
(Rasa 3.6: `parse["response_selector"][<intent> or "default"]["response"]
["intent_response_key"]`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"


def full_label(parsed: Mapping[str, Any]) -> str:
    """The label one parse result predicts: the intent, with its response key when retrieval."""
    intent = (parsed.get("intent") or {}).get("name") or FALLBACK
    selectors = parsed.get("response_selector") or {}
    for key in (intent, "default"):
        response = (selectors.get(key) or {}).get("response") or {}
        full = response.get("intent_response_key") or ""
        if full.startswith(intent + "/"):
            return full
    return intent


def counted(gold: Sequence[str], pred: Sequence[str]) -> list[str]:
    """Predictions as scored: nlu_fallback for an out_of_scope message counts as right
    (both answer "I cannot help with that; here is what I can do")."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} expected labels but {len(pred)} predictions")
    return [
        OUT_OF_SCOPE if g == OUT_OF_SCOPE and p == FALLBACK else p
        for g, p in zip(gold, pred, strict=True)
    ]


def f1(tp: float, support: float, predicted: float) -> float:
    """F1 from true positives, gold count and predicted count (0 when both counts are 0)."""
    total = support + predicted
    return 2.0 * tp / total if total else 0.0


def score(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    """Precision, recall, F1 and support per gold label, macro-F1 and accuracy.

    The labels are those of the gold set (as sklearn's `labels=sorted(set(gold))`):
    a prediction outside them (nlu_fallback, a label the set does not test)
    is a miss of its message's label and nobody's false positive.
    """
    pred = counted(gold, pred)
    labels = sorted(set(gold))
    support = dict.fromkeys(labels, 0)
    predicted = dict.fromkeys(labels, 0)
    tp = dict.fromkeys(labels, 0)
    for g, p in zip(gold, pred, strict=True):
        support[g] += 1
        if p in predicted:
            predicted[p] += 1
        if g == p:
            tp[g] += 1
    per = {}
    for label in labels:
        per[label] = {
            "precision": tp[label] / predicted[label] if predicted[label] else 0.0,
            "recall": tp[label] / support[label] if support[label] else 0.0,
            "f1": f1(tp[label], support[label], predicted[label]),
            "support": support[label],
        }
    return {
        "per_intent": per,
        "macro_f1": sum(r["f1"] for r in per.values()) / len(per) if per else 0.0,
        "accuracy": sum(tp.values()) / len(gold) if gold else 0.0,
        "pred": pred,
    }
