"""Whole-reply evaluation: does the answer carry the right action and the right
place to call? On first messages and on multi-turn conversations.

Each case (chatbot/blind/*.yml, written by writers who never saw the training
data) says what a correct reply MUST contain, as tokens (chatbot/blind/
tokens.yml gives each token's patterns), and what it must NOT contain. The
messages go to the real assistant over REST (Rasa and its action server,
started here with the clock pinned, or a running one with --url), each case
in a new conversation, and the whole reply (every text message) is checked.

Prints the pass rate per situation and overall, the fallback rate, the urgent
turns that led with 110, the confusion between fraud types, and the label
accuracy; with --floor, exits 1 below it. Failures are written to
results/replies/ for the dev set only (--show-errors): a blind set's errors
are not for reading.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import sys
import unicodedata
from collections import Counter, defaultdict
from contextlib import ExitStack
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKENS = ROOT / "chatbot" / "blind" / "tokens.yml"
# A weekday afternoon: the center and the other lines are open, so a reply is
# judged on its content rather than on the hour.
DEFAULT_NOW = "2026-12-02T14:00+09:00"
# Conversations run on a Saturday evening, as their writers were told: the
# weekday-only lines are closed, and the hour questions must say so.
CONVERSATION_NOW = "2026-12-05T19:00+09:00"


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def load_tokens() -> tuple[dict[str, list[re.Pattern[str]]], list[str]]:
    spec = yaml.safe_load(TOKENS.read_text(encoding="utf-8"))
    always = spec.pop("_must_not_always", [])
    return {k: [re.compile(p) for p in v] for k, v in spec.items()}, always


def token_met(token: str, reply: str, tokens: dict[str, list[re.Pattern[str]]]) -> bool:
    """`A|B` is met when either is."""
    return any(any(p.search(reply) for p in tokens[t.strip()]) for t in token.split("|"))


def check(case: dict, reply: str, tokens, always) -> list[str]:
    """What is wrong with a reply (empty when it passes)."""
    reply = nfkc(reply)
    problems = [f"missing {t}" for t in case.get("must") or [] if not token_met(t, reply, tokens)]
    for phrase in [*always, *(case.get("must_not") or [])]:
        if nfkc(phrase) and nfkc(phrase) in reply:
            problems.append(f"says {phrase}")
    return problems


class Client:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + "/webhooks/rest/webhook"
        self.http = httpx.Client(timeout=60)

    def say(self, sender: str, text: str) -> tuple[str, dict, str]:
        """(whole reply text, meta, first line of the reply)."""
        resp = self.http.post(self.url, json={"sender": sender, "message": text})
        resp.raise_for_status()
        texts, meta = [], {}
        for item in resp.json():
            if item.get("text"):
                texts.append(item["text"])
            custom = item.get("custom") or {}
            if isinstance(custom, dict) and isinstance(custom.get("meta"), dict):
                meta = custom["meta"]
        whole = "\n".join(texts)
        return whole, meta, (texts[0].splitlines()[0] if texts and texts[0] else "")


def is_urgent(case: dict) -> bool:
    """A crime in progress: labelled so, or requiring 110 with no alternative
    (the sets' writers were told that urgent turns must require PLACE_110)."""
    return "crime_in_progress" in (case.get("expect") or []) or "PLACE_110" in (
        case.get("must") or []
    )


def label_of(meta: dict) -> str | None:
    if meta.get("urgent"):
        return "crime_in_progress"
    topic = meta.get("topic")
    kind = meta.get("kind")
    if kind == "fallback":
        return "fallback"
    if kind == "eligibility":
        return "check_eligibility"
    from soudan.catalogue import is_entry

    if topic and is_entry(topic):
        return f"faq/{topic}"
    intents = meta.get("intents") or []
    return intents[0]["name"] if intents else None


def first_turns(client: Client, path: Path, tokens, always) -> dict:
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    results = [
        play(
            client,
            "eval-" + secrets.token_hex(6),
            case,
            case["id"],
            case.get("situation", "other"),
            tokens,
            always,
        )
        for case in cases
    ]
    return summarise(results, path)


def play(
    client: Client, sender: str, case: dict, ident: str, situation: str, tokens, always
) -> dict:
    """Send one case (a first message or a turn) and judge its whole reply."""
    reply, meta, first = client.say(sender, case["text"])
    return {
        "id": ident,
        "situation": situation,
        "expect": case.get("expect") or [],
        "label": label_of(meta),
        "fallback": meta.get("kind") == "fallback",
        "urgent_case": is_urgent(case),
        "led_with_110": bool(re.search(r"110", nfkc(first))),
        "problems": check(case, reply, tokens, always),
        "text": case["text"],
        "reply": reply,
    }


def conversations(client: Client, path: Path, tokens, always) -> dict:
    convs = yaml.safe_load(path.read_text(encoding="utf-8"))
    results, per_conv = [], []
    for conv in convs:
        sender = "eval-" + secrets.token_hex(6)
        ok = True
        for i, turn in enumerate(conv["turns"]):
            position = "first" if i == 0 else "later"
            result = play(client, sender, turn, f"{conv['id']}#{i + 1}", position, tokens, always)
            ok = ok and not result["problems"]
            results.append(result)
        per_conv.append(ok)
    summary = summarise(results, path)
    summary["conversations"] = len(per_conv)
    summary["conversation_pass_rate"] = sum(per_conv) / len(per_conv) if per_conv else 0.0
    return summary


def summarise(results: list[dict], path: Path) -> dict:
    by_situation: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_situation[r["situation"]].append(not r["problems"])
    urgent = [r for r in results if r["urgent_case"]]
    labelled = [r for r in results if r["expect"]]
    fraud_confusion = Counter(
        (exp, r["label"])
        for r in labelled
        for exp in r["expect"][:1]
        if exp.startswith("faq/") and r["label"] not in r["expect"] and _is_fraud(exp)
    )
    return {
        "set": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
        "cases": len(results),
        "pass_rate": sum(not r["problems"] for r in results) / len(results),
        "by_situation": {k: (sum(v) / len(v), len(v)) for k, v in sorted(by_situation.items())},
        "fallback_rate": sum(r["fallback"] for r in results) / len(results),
        "urgent_cases": len(urgent),
        "urgent_led_with_110": (
            sum(r["led_with_110"] for r in urgent) / len(urgent) if urgent else 1.0
        ),
        "label_accuracy": (
            sum(r["label"] in r["expect"] for r in labelled) / len(labelled) if labelled else 0.0
        ),
        "fraud_confusion": fraud_confusion.most_common(15),
        "results": results,
    }


def _is_fraud(label: str) -> bool:
    from soudan.catalogue import entry

    found = entry(label.split("/", 1)[1])
    return bool(found and found.group == "fraud")


def report(summary: dict) -> None:
    print(f"\n== {summary['set']}: {summary['cases']} turns")
    if "conversations" in summary:
        print(
            f"conversations: {summary['conversations']}, all turns right in "
            f"{summary['conversation_pass_rate']:.3f}"
        )
    print(f"pass rate (whole replies): {summary['pass_rate']:.3f}")
    for situation, (rate, n) in summary["by_situation"].items():
        print(f"  {situation:10} {rate:.3f}  ({n})")
    print(f"fallback rate: {summary['fallback_rate']:.3f}")
    print(
        f"urgent turns leading with 110: {summary['urgent_led_with_110']:.3f} "
        f"({summary['urgent_cases']} turns)"
    )
    print(f"label accuracy: {summary['label_accuracy']:.3f}")
    if summary["fraud_confusion"]:
        print("fraud types confused (expected → answered, count):")
        for (exp, got), n in summary["fraud_confusion"]:
            print(f"  {exp} → {got}: {n}")


def _run_set(client, path, multi, floor, tokens, always, out, args) -> bool:
    """Play one set, print and write its figures; False when under its floor."""
    cases_run = conversations if multi else first_turns
    summary = cases_run(client, path, tokens, always)
    report(summary)
    figures = {k: v for k, v in summary.items() if k != "results"}
    (out / f"{path.stem}.json").write_text(
        json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    if args.show_errors:
        errors = [
            r
            for r in summary["results"]
            if r["problems"] or (r["urgent_case"] and not r["led_with_110"])
        ]
        (out / f"{path.stem}.errors.json").write_text(
            json.dumps(errors, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        print(f"errors: {out / f'{path.stem}.errors.json'}")
    if floor is not None and summary["pass_rate"] < floor:
        print(f"FAIL: pass rate {summary['pass_rate']:.3f} is below the floor {floor}")
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sets", nargs="+", help="YAML case files (first turns or conversations)")
    parser.add_argument("--model", help="a trained model: start Rasa and actions for it")
    parser.add_argument("--url", help="a running Rasa (instead of --model)")
    parser.add_argument("--now", default=DEFAULT_NOW, help="the clock for first-turn sets")
    parser.add_argument(
        "--conversation-now", default=CONVERSATION_NOW, help="the clock for conversation sets"
    )
    parser.add_argument("--floor", type=float, action="append", default=[])
    parser.add_argument("--show-errors", action="store_true", help="dev sets only")
    parser.add_argument("--out", default=str(ROOT / "results" / "replies"))
    args = parser.parse_args()
    tokens, always = load_tokens()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = False
    loaded = []
    for i, name in enumerate(args.sets):
        path = Path(name).resolve()
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))
        multi = bool(cases) and "turns" in cases[0]
        floor = args.floor[i] if i < len(args.floor) else None
        loaded.append((path, multi, floor))
    # One assistant per clock (the action server reads its clock at start).
    clocks = {
        args.now: [s for s in loaded if not s[1]],
        args.conversation_now: [s for s in loaded if s[1]],
    }
    for now, sets in clocks.items():
        if not sets:
            continue
        with ExitStack() as stack:
            url = args.url
            if not url:
                sys.path.insert(0, str(ROOT / "tests"))
                from servers import running_assistant

                assistant = stack.enter_context(
                    running_assistant(args.model, out / "logs", now=now)
                )
                url = assistant.url
            client = Client(url)
            for path, multi, floor in sets:
                failed |= not _run_set(client, path, multi, floor, tokens, always, out, args)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
