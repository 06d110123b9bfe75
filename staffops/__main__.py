"""Command line for call-center staff and operators: `python -m staffops --help`.

    python -m staffops inbox list                      # what the bot did not understand
    python -m staffops label <id> --intent faq/unknown_number
    python -m staffops label <id> --out-of-scope
    python -m staffops label <id> --new-topic scam_refund_call \\
        --answer "…{hotline.center.short_name}…" --hotline center --example "…" --example "…"
    python -m staffops retrain --wait --rasa-url http://localhost:5005
    python -m staffops compare --candidate models/candidates/<time>.tar.gz [--live X]
    python -m staffops noise --seeds 3                 # measure the training noise
    python -m staffops promote models/candidates/<time>.tar.gz --rasa-url http://localhost:5005
    python -m staffops rollback --rasa-url http://localhost:5005
    python -m staffops audit

Exit status: 0 done, 1 refused or failed, 3 promotion refused by compare.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from staffops import audit, gate, jobs, models, teach
from staffops.errors import PromotionRefused, StaffOpsError
from staffops.project import Project


def _print(args, data: Any, text: str | None = None) -> None:
    if args.json or text is None:
        print(json.dumps(data, ensure_ascii=False, indent=1, default=str))
    else:
        print(text)


def _urls(args) -> list[str]:
    urls = [u for value in args.rasa_url or [] for u in value.split(",") if u.strip()]
    return urls or [u for u in os.environ.get("RASA_URLS", "").split(",") if u.strip()]


def _inbox(args):
    from staffops.inbox import Inbox

    return Inbox.of(args.root)


# ---------------------------------------------------------------- commands


def cmd_inbox(args) -> int:
    inbox = _inbox(args)
    if args.inbox_command == "list":
        items = inbox.list(include_resolved=args.all, limit=args.limit)
        lines = []
        for item in items:
            top = item["intents"][0] if item["intents"] else {"name": "-", "confidence": 0}
            lines.append(
                f"{item['id']}  {item['time'][:16]}  {item['channel']:4}  {item['reason']:17}"
                f"  {top['name']} {top['confidence']:.2f}  {item['status']}\n    {item['text']}"
            )
        _print(args, items, "\n".join(lines) or "(no open items)")
    elif args.inbox_command == "show":
        item = inbox.get(args.id)
        if item is None:
            raise StaffOpsError(f"受信箱に {args.id} はありません", f"no inbox item {args.id}")
        _print(args, item)
    elif args.inbox_command == "add":
        intents = []
        for spec in args.intent or []:
            name, _, confidence = spec.partition(":")
            intents.append({"name": name, "confidence": float(confidence or 0)})
        item = inbox.add(
            {
                "text": args.text,
                "channel": args.channel,
                "reason": args.reason,
                "bot_reply": args.reply,
                "intents": intents,
            }
        )
        _print(args, item, f"added {item['id']}: {item['text']}")
    elif args.inbox_command == "resolve":
        item = inbox.resolve(args.id, who=args.who, resolution=args.note or "dismissed")
        audit.record(
            "inbox_resolve",
            {"inbox_id": args.id, "resolution": item["resolution"]},
            who=args.who,
            root=args.root,
        )
        _print(args, item, f"resolved {args.id}")
    return 0


def cmd_label(args) -> int:
    if bool(args.id) == bool(args.text):
        raise StaffOpsError(
            "受信箱のID か --text のどちらか一つを指定してください",
            "give either an inbox id or --text",
        )
    inbox = _inbox(args) if args.id else None
    text = args.text
    if inbox is not None:
        item = inbox.get(args.id)
        if item is None:
            raise StaffOpsError(f"受信箱に {args.id} はありません", f"no inbox item {args.id}")
        text = item["text"]
    common = {"root": args.root, "who": args.who, "inbox_id": args.id}
    if args.new_topic:
        if not args.answer:
            raise StaffOpsError("--answer が必要です", "--new-topic needs --answer")
        change = teach.new_topic(
            args.new_topic, [text, *(args.example or [])], args.answer, args.hotline or [], **common
        )
    elif args.out_of_scope:
        change = teach.label_out_of_scope(text, **common)
    elif args.intent:
        change = teach.label(text, args.intent, **common)
    else:
        raise StaffOpsError(
            "--intent / --out-of-scope / --new-topic のどれかを指定してください",
            "give --intent, --out-of-scope or --new-topic",
        )
    if inbox is not None:
        inbox.resolve(
            args.id, who=args.who, resolution={"action": change.action, "intent": change.intent}
        )
    notes = "".join(f"\n  note: {n}" for n in change.notes)
    _print(
        args,
        change.as_dict(),
        f"OK: {len(change.examples)} example(s) → {change.intent} "
        f"({', '.join(change.files)}){notes}\n"
        "The bot learns it at the next retraining: python -m staffops retrain --wait",
    )
    return 0


def cmd_topics(args) -> int:
    found = teach.topics(args.root)
    lines = [
        f"{name}: {len(t['examples'])} examples, hotlines {t['hotlines']}\n    "
        + t["answer"].replace("\n", "\n    ")
        for name, t in found.items()
    ]
    _print(args, found, "\n".join(lines) or "(no staff topics yet)")
    return 0


def _show_job(job: dict[str, Any]) -> None:
    last = job["messages"][-1]["text"] if job["messages"] else ""
    print(f"[{job['percent']:3d}%] {job['stage']:15} {last}", flush=True)


def cmd_retrain(args) -> int:
    spec = {"rasa_urls": _urls(args), "margin": args.margin, "override": args.override}
    if args.wait:
        job = jobs.create(args.root, args.who, **spec)
        print(f"job {job['id']} (progress: {Project.at(args.root).jobs_dir / job['id']}.json)")
        job = jobs.run(job["id"], args.root)
    else:
        job_id = jobs.start(args.root, args.who, **spec)
        job = jobs.status(job_id, args.root)
        _print(
            args,
            job,
            f"job {job_id} started; progress: python -m staffops job show {job_id}\n"
            f"  ({Project.at(args.root).jobs_dir / job_id}.json)",
        )
        return 0
    result = job.get("result") or {}
    if args.json:
        _print(args, job)
    else:
        for message in job["messages"]:
            print(f"  {message['time'][11:19]}  {message['text']}")
        print(f"outcome: {result.get('outcome')}  candidate: {result.get('candidate')}")
    return {"promoted": 0, "candidate_ready": 0, "refused": 3}.get(result.get("outcome"), 1)


def cmd_job(args) -> int:
    if args.job_command == "run":
        job = jobs.run(args.id, args.root)
        return 0 if job["state"] == "done" else 1
    if args.job_command == "list":
        found = jobs.list_jobs(args.root)
        lines = [
            f"{j['id']}  {j['state']:8} {j['stage']:15} {j['percent']:3d}%  "
            f"{(j.get('result') or {}).get('outcome') or ''}"
            for j in found
        ]
        _print(args, found, "\n".join(lines) or "(no jobs)")
        return 0
    if args.wait:
        job = jobs.wait(args.id, args.root, on_update=None if args.json else _show_job)
    else:
        job = jobs.status(args.id, args.root)
    _print(args, job, None if args.json else json.dumps(job, ensure_ascii=False, indent=1))
    return 0


def cmd_compare(args) -> int:
    candidate = args.candidate_option or args.candidate
    if not candidate:
        raise StaffOpsError("候補のモデルを指定してください", "give the candidate model")
    comparison = models.compare(
        candidate,
        args.live,
        args.root,
        margin=args.margin,
        alpha=args.alpha,
        min_support=args.min_support,
        sets=args.set,
    )
    text = comparison.table() + "\n\n" + "\n".join(comparison.reasons_ja)
    _print(args, comparison.as_dict(), text)
    return 0 if comparison.ok else 3


def cmd_noise(args) -> int:
    from staffops import noise

    def show(stage: str, percent: float | None = None, message: str | None = None) -> None:
        if message and not args.json:
            print(f"  {message}", flush=True)

    profile = noise.measure(
        args.root,
        list(range(1, args.seeds + 1)),
        sets=args.set,
        write=not args.dry_run,
        progress=show,
        wait_for_others=not args.concurrent,
    )
    _print(args, profile, noise.table(profile))
    return 0


def cmd_promote(args) -> int:
    live = models.promote(
        args.candidate,
        _urls(args),
        args.root,
        args.who,
        override=args.override,
        margin=args.margin,
    )
    _print(args, live, f"live: {live['live']}\nprevious: {live['previous']}")
    return 0


def cmd_rollback(args) -> int:
    live = models.rollback(_urls(args), args.root, args.who)
    _print(args, live, f"live again: {live['live']}\n(was: {live['previous']})")
    return 0


def cmd_models(args) -> int:
    project = Project.at(args.root)
    data = {
        "live": str(models.live_model(project) or ""),
        "live_json": models.read_live(project),
        "candidates": [str(p) for p in sorted(project.candidates.glob("*.tar.gz"))],
    }
    text = f"live: {data['live'] or '(none)'}\ncandidates:\n" + "\n".join(
        f"  {c}" for c in data["candidates"]
    )
    _print(args, data, text)
    return 0


def cmd_audit(args) -> int:
    entries = audit.read(args.root, limit=args.limit)
    lines = [
        f"{e['time']}  {e['who']:10} {e['action']:16} "
        + json.dumps(e["details"], ensure_ascii=False)[:160]
        for e in entries
    ]
    _print(args, entries, "\n".join(lines) or "(empty)")
    return 0


# ---------------------------------------------------------------- parser


def parser() -> argparse.ArgumentParser:
    def common(parser: argparse.ArgumentParser, default) -> None:
        # Accepted before or after the command (`--who sato label ...`, `label ... --who sato`).
        parser.add_argument(
            "--root",
            default=default(None),
            help="project directory (default: this checkout, or $STAFFOPS_ROOT)",
        )
        parser.add_argument(
            "--who", default=default(audit.default_who()), help="name in the audit log ($USER)"
        )
        parser.add_argument(
            "--json", action="store_true", default=default(False), help="print JSON"
        )
        parser.add_argument(
            "--database-url",
            default=default(None),
            help="the records (inbox, audit log): default $DATABASE_URL, else the "
            "project's var/records.sqlite",
        )

    top = argparse.ArgumentParser(
        prog="python -m staffops",
        description="Staff tools: review the inbox, label, retrain, compare, promote, roll back.",
    )
    common(top, lambda value: value)
    shared = argparse.ArgumentParser(add_help=False)
    common(shared, lambda value: argparse.SUPPRESS)
    sub = top.add_subparsers(dest="command", required=True)

    def command(subparsers, name: str, **kwargs) -> argparse.ArgumentParser:
        return subparsers.add_parser(name, parents=[shared], **kwargs)

    def rasa_url(p):
        p.add_argument(
            "--rasa-url",
            action="extend",
            nargs="+",
            metavar="URL",
            help="Rasa servers run with --enable-api (one or more; default: $RASA_URLS)",
        )

    def margin(p):
        p.add_argument(
            "--margin",
            type=float,
            default=gate.MARGIN,
            help=f"a drop must exceed the noise by this much to refuse ({gate.MARGIN})",
        )

    def labelled_sets(p):
        p.add_argument(
            "--set",
            action="append",
            metavar="PATH",
            help="a labelled set or folder of sets (repeat; default: chatbot/heldout/nlu.yml "
            "and chatbot/blind/); missing ones are skipped",
        )

    p = command(sub, "inbox", help="the messages to review")
    isub = p.add_subparsers(dest="inbox_command", required=True)
    q = command(isub, "list")
    q.add_argument("--all", action="store_true", help="resolved items too")
    q.add_argument("--limit", type=int, default=100)
    command(isub, "show").add_argument("id")
    q = command(isub, "resolve", help="close an item without labelling it")
    q.add_argument("id")
    q.add_argument("--note")
    q = command(isub, "add", help="add an item by hand (tests, demonstrations)")
    q.add_argument("--text", required=True)
    q.add_argument("--channel", default="web", choices=["web", "line"])
    q.add_argument("--reason", default="low_confidence")
    q.add_argument("--reply", default="")
    q.add_argument("--intent", action="append", help="name:confidence")
    p.set_defaults(func=cmd_inbox)

    p = command(sub, "label", help="teach: an inbox item (or --text) → an intent")
    p.add_argument("id", nargs="?", help="inbox item id")
    p.add_argument("--text", help="a message typed here instead of an inbox item")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--intent", help="an existing intent (docs/intents.md)")
    what.add_argument("--out-of-scope", action="store_true", help="not something the bot answers")
    what.add_argument("--new-topic", metavar="NAME", help="a new FAQ topic (new intent)")
    p.add_argument("--answer", help="the new topic's answer; facts only as {placeholders}")
    p.add_argument("--hotline", action="extend", nargs="+", help="hotline keys to offer")
    p.add_argument("--example", action="append", help="another example of the new topic (repeat)")
    p.set_defaults(func=cmd_label)

    command(sub, "topics", help="the topics staff taught").set_defaults(func=cmd_topics)

    p = command(sub, "retrain", help="retrain → evaluate → compare → promote or refuse")
    p.add_argument("--wait", action="store_true", help="run here and print the progress")
    p.add_argument("--override", help="promote even if compare says no, for this reason")
    rasa_url(p)
    margin(p)
    p.set_defaults(func=cmd_retrain)

    p = command(sub, "job", help="background jobs")
    jsub = p.add_subparsers(dest="job_command", required=True)
    q = command(jsub, "show")
    q.add_argument("id")
    q.add_argument("--wait", action="store_true")
    command(jsub, "list")
    command(jsub, "run", help="(internal) run a created job").add_argument("id")
    p.set_defaults(func=cmd_job)

    p = command(sub, "compare", help="candidate vs live model: the promotion gate's figures")
    p.add_argument("candidate", nargs="?", help="the candidate model (or --candidate)")
    p.add_argument("--candidate", dest="candidate_option", metavar="MODEL")
    p.add_argument("--live", help="model to compare with (default: the live one)")
    margin(p)
    p.add_argument(
        "--alpha",
        type=float,
        default=gate.ALPHA,
        help=f"chance of refusing a retraining that changed nothing real ({gate.ALPHA})",
    )
    p.add_argument(
        "--min-support",
        type=int,
        default=gate.MIN_SUPPORT,
        help=f"intents with fewer messages in a set are not judged one by one ({gate.MIN_SUPPORT})",
    )
    labelled_sets(p)
    p.set_defaults(func=cmd_compare)

    p = command(sub, "noise", help="measure the training noise (seeds) the gate allows for")
    p.add_argument("--seeds", type=int, default=3, help="how many seeds to train (3)")
    p.add_argument("--dry-run", action="store_true", help="print, do not write the profile")
    p.add_argument(
        "--concurrent",
        action="store_true",
        help="do not wait for other `rasa train` runs on the machine (only for our own lock)",
    )
    labelled_sets(p)
    p.set_defaults(func=cmd_noise)

    p = command(sub, "promote", help="make a candidate live on the Rasa servers")
    p.add_argument("candidate")
    p.add_argument("--override", metavar="REASON", help="promote although compare says no")
    rasa_url(p)
    margin(p)
    p.set_defaults(func=cmd_promote)

    p = command(sub, "rollback", help="put the previous model back")
    rasa_url(p)
    p.set_defaults(func=cmd_rollback)

    command(sub, "models", help="the live model and the candidates").set_defaults(func=cmd_models)

    p = command(sub, "audit", help="the audit log")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_audit)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.database_url:
        # Every record this command writes (and the jobs it starts) goes there.
        os.environ["DATABASE_URL"] = args.database_url
    try:
        return args.func(args)
    except PromotionRefused as error:
        print(f"REFUSED: {error.ja}\n         {error.en}", file=sys.stderr)
        return 3
    except StaffOpsError as error:
        print(f"ERROR: {error.ja}\n       {error.en}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
