"""Load benchmark of the web gateway: concurrent users, each with its own
conversation (cookie), through the gateway and, the same load, straight to
Rasa's REST webhook; throughput, p50/p95/p99 and the gateway's overhead.

    make bench-gateway         (runs with .venv/gateway's python; MODEL set by make)

It starts the action server, one Rasa process (conversations in Redis, as
behind several gateways) and the gateway under uvicorn (its state in Redis),
all on loopback, unless --rasa-url/--gateway-url name running ones. Each
user sends its messages one after the other, waiting --think seconds
between them (a person reading the answer); every level is bounded in
requests and in time. Targets: p95 <= 150 ms at 10 users, overhead <= 10 %.
Prints figures; asserts nothing. Traffic goes only to 127.0.0.1.

The simulated users are aiohttp clients: a client's own cost per request
(httpx's is about 2 ms here) would be added to both sides of the ratio and
make the gateway's share look smaller than it is.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "gateway"))

from tests.servers import start_gateway, start_stack, stop  # noqa: E402

BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")


def heldout_texts() -> list[str]:
    data = yaml.safe_load((ROOT / "chatbot" / "heldout" / "nlu.yml").read_text(encoding="utf-8"))
    return [
        line[2:].strip()
        for item in data["nlu"]
        for line in item["examples"].splitlines()
        if line.startswith("- ")
    ]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


@dataclass
class Run:
    target: str
    users: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000 if self.latencies else float("nan")

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else float("nan")


def session() -> aiohttp.ClientSession:
    """A browser-like client: its own connection and cookie jar (unsafe=True:
    aiohttp otherwise keeps no cookies from an IP address such as 127.0.0.1)."""
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True), timeout=aiohttp.ClientTimeout(total=30)
    )


async def post(client: aiohttp.ClientSession, url: str, body: dict) -> tuple[int, object]:
    async with client.post(url, json=body) as resp:
        return resp.status, await resp.json(content_type=None)


def answered(target: str, status: int, payload: object) -> bool:
    if status != 200:
        return False
    return target == "rasa" or (isinstance(payload, dict) and payload.get("status") == "ok")


async def one_user(
    target: str,
    url: str,
    texts: list[str],
    args: argparse.Namespace,
    count: int,
    deadline: float,
    run: Run,
    seed: int,
) -> None:
    rng = random.Random(seed)
    think = args.think
    sender = secrets.token_urlsafe(16)
    client = session()
    try:
        for sent in range(count):
            if time.monotonic() > deadline:
                return
            if sent and sent % args.conversation_length == 0:
                # The person comes back another day: a new conversation.
                await client.close()
                client = session()
                sender = secrets.token_urlsafe(16)
            text = rng.choice(texts)
            if target in {"gateway", "scaled"}:
                request = post(client, f"{url}/api/chat", {"message": text})
            else:
                request = post(
                    client, f"{url}/webhooks/rest/webhook", {"sender": sender, "message": text}
                )
            started = time.perf_counter()
            try:
                ok = answered(target, *(await request))
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                ok = False
            elapsed = time.perf_counter() - started
            if ok:
                run.latencies.append(elapsed)
            else:
                run.errors += 1
            if think:
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))
    finally:
        await client.close()


async def level(target: str, url: str, users: int, args, texts: list[str]) -> Run:
    run = Run(target, users)
    count = max(args.min_per_user, args.requests // users)
    started = time.monotonic()
    deadline = started + args.max_seconds
    await asyncio.gather(
        *(
            one_user(target, url, texts, args, count, deadline, run, seed=users * 1000 + i)
            for i in range(users)
        )
    )
    run.seconds = time.monotonic() - started
    return run


async def warm_up(url: str, rasa_url: str, texts: list[str]) -> None:
    async with session() as client:
        for text in texts[:20]:
            await post(client, f"{url}/api/chat", {"message": text})
            await post(
                client, f"{rasa_url}/webhooks/rest/webhook", {"sender": "warm-up", "message": text}
            )


@dataclass
class Pair:
    direct: Run
    through: Run
    # Per message answered both ways: via the gateway minus straight to Rasa.
    differences: list[float] = field(default_factory=list)


async def paired(gateway_url: str, rasa_url: str, texts: list[str], count: int) -> Pair:
    """One user, no think time: each message straight to Rasa and through the
    gateway, alternating which goes first, so both see the same messages and
    the same machine; the cleanest measure of what the gateway adds."""
    direct, through = Run("rasa", 1), Run("gateway", 1)
    differences = []
    started = time.monotonic()
    async with session() as rasa, session() as gateway:
        for i, text in enumerate(texts[:count]):
            if i % 8 == 0:  # a new conversation now and then, as people do
                sender = secrets.token_urlsafe(16)
                gateway.cookie_jar.clear()

            async def to_rasa(text=text, sender=sender) -> None:
                t = time.perf_counter()
                body = {"sender": sender, "message": text}
                if answered("rasa", *(await post(rasa, f"{rasa_url}/webhooks/rest/webhook", body))):
                    direct.latencies.append(time.perf_counter() - t)

            async def to_gateway(text=text) -> None:
                t = time.perf_counter()
                reply = await post(gateway, f"{gateway_url}/api/chat", {"message": text})
                if answered("gateway", *reply):
                    through.latencies.append(time.perf_counter() - t)

            first, second = (to_rasa, to_gateway) if i % 2 == 0 else (to_gateway, to_rasa)
            before = len(direct.latencies), len(through.latencies)
            await first()
            await second()
            if (len(direct.latencies), len(through.latencies)) == (before[0] + 1, before[1] + 1):
                differences.append(through.latencies[-1] - direct.latencies[-1])
    direct.seconds = through.seconds = time.monotonic() - started
    direct.errors = count - len(direct.latencies)
    through.errors = count - len(through.latencies)
    return Pair(direct, through, differences)


def table(runs: list[tuple[Run, ...]], processes: int) -> str:
    lines = [
        "| users | target | requests | errors | throughput (req/s) | p50 ms | p95 ms | p99 ms |"
        " mean vs direct |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    names = {
        "rasa": "Rasa REST (direct)",
        "gateway": "gateway → Rasa",
        "scaled": f"gateway → {processes} Rasa processes",
    }
    for rasa, *others in runs:
        for run in (rasa, *others):
            name = names[run.target]
            extra = "" if run is rasa else f"{(run.mean_ms / rasa.mean_ms - 1) * 100:+.1f} %"
            lines.append(
                f"| {run.users} | {name} | {len(run.latencies)} | {run.errors} | "
                f"{run.throughput:.1f} | {run.ms(0.5):.1f} | {run.ms(0.95):.1f} | "
                f"{run.ms(0.99):.1f} | {extra} |"
            )
    return "\n".join(lines)


async def measure(
    gateway_url: str, rasa_url: str, args, scaled_url: str | None = None
) -> tuple[Pair, list]:
    texts = heldout_texts()
    await warm_up(gateway_url, rasa_url, texts)
    rng = random.Random(7)
    pair = await paired(gateway_url, rasa_url, rng.sample(texts, len(texts)), args.paired)
    print(
        f"  paired, 1 user: Rasa p50 {pair.direct.ms(0.5):.1f} ms, "
        f"gateway p50 {pair.through.ms(0.5):.1f} ms",
        flush=True,
    )
    runs = []
    for users in args.users:
        rasa = await level("rasa", rasa_url, users, args, texts)
        gateway = await level("gateway", gateway_url, users, args, texts)
        runs.append((rasa, gateway))
        if scaled_url:
            runs[-1] += (await level("scaled", scaled_url, users, args, texts),)
        print(
            f"  {users:>3} users: p95 "
            + ", ".join(f"{r.target} {r.ms(0.95):.0f} ms" for r in runs[-1]),
            flush=True,
        )
    return pair, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--users", type=lambda s: [int(x) for x in s.split(",")], default=[1, 10, 50]
    )
    parser.add_argument("--requests", type=int, default=300, help="per level and target")
    parser.add_argument("--min-per-user", type=int, default=6)
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean seconds between a user's messages"
    )
    parser.add_argument(
        "--conversation-length", type=int, default=8, help="messages before a new conversation"
    )
    parser.add_argument("--max-seconds", type=float, default=90, help="per level and target")
    parser.add_argument(
        "--paired", type=int, default=200, help="messages of the paired one-user run"
    )
    parser.add_argument(
        "--rasa-processes",
        type=int,
        default=2,
        help="also measure a gateway in front of this many Rasa processes (1: not)",
    )
    parser.add_argument("--rasa-url", help="a running Rasa (with --gateway-url)")
    parser.add_argument("--gateway-url", help="a running gateway in front of --rasa-url")
    args = parser.parse_args()

    print(
        f"== gateway benchmark: users {args.users}, {args.requests} requests per level "
        f"(at least {args.min_per_user} per user, {args.conversation_length} per conversation), "
        f"think time {args.think} s, "
        f"at most {args.max_seconds:.0f} s per level"
    )
    if args.rasa_url and args.gateway_url:
        pair, runs = asyncio.run(measure(args.gateway_url, args.rasa_url, args))
    else:
        model = Path(os.environ["MODEL"])
        prefix = "bench" + secrets.token_hex(4)
        logs = ROOT / "results" / "bench-logs"
        processes = max(1, args.rasa_processes)
        print(
            f"starting the action server, {processes} Rasa process(es) (Redis tracker and "
            "lock stores) and the gateway ..."
        )
        stack = start_stack(model, logs, BENCH_REDIS_URL, prefix, rasa_count=processes)
        gateways = []

        def gateway_for(urls: list[str], name: str) -> str:
            proc, url = start_gateway(
                {
                    "RASA_URLS": ",".join(urls),
                    "ACTIONS_URL": stack.actions_url,
                    "REDIS_URL": BENCH_REDIS_URL,
                    "REDIS_KEY_PREFIX": f"{prefix}:gw:",
                    # Every simulated user comes from 127.0.0.1: the limits would
                    # measure themselves, not the gateway.
                    "RATE_LIMIT_PER_CLIENT": "1000000",
                    "RATE_LIMIT_PER_CONVERSATION": "1000000",
                },
                logs / f"{name}.log",
            )
            gateways.append(proc)
            return url

        try:
            gateway_url = gateway_for(stack.rasa_urls[:1], "gateway")
            scaled_url = gateway_for(stack.rasa_urls, "gateway-scaled") if processes > 1 else None
            pair, runs = asyncio.run(measure(gateway_url, stack.rasa_urls[0], args, scaled_url))
        finally:
            for proc in gateways:
                stop(proc)
            stack.close()
            import redis

            client = redis.Redis.from_url(BENCH_REDIS_URL)
            for key in client.scan_iter(match=f"{prefix}*", count=1000):
                client.delete(key)
            client.close()
    direct, through = pair.direct, pair.through
    # The median of the per-message differences: what one message pays,
    # without the swings of Rasa's own time (long messages, queues) in it.
    median_diff = statistics.median(pair.differences) * 1000 if pair.differences else float("nan")
    print(
        f"\nGateway overhead, {len(through.latencies)} messages one at a time, each also sent "
        f"straight to Rasa (same messages, alternating order):\n"
        f"  Rasa direct   p50 {direct.ms(0.5):.1f} ms  p95 {direct.ms(0.95):.1f} ms  "
        f"mean {direct.mean_ms:.1f} ms\n"
        f"  via gateway   p50 {through.ms(0.5):.1f} ms  p95 {through.ms(0.95):.1f} ms  "
        f"mean {through.mean_ms:.1f} ms\n"
        f"  overhead: {through.mean_ms - direct.mean_ms:+.1f} ms mean, "
        f"{(through.mean_ms / direct.mean_ms - 1) * 100:+.1f} % (target <= 10 %); "
        f"per message, median {median_diff:+.1f} ms = "
        f"{median_diff / direct.ms(0.5) * 100:+.1f} % of Rasa's p50"
    )
    print()
    print(table(runs, args.rasa_processes))
    ten = next((run for run in runs if run[0].users == 10), None)
    if ten:
        rasa, gw = ten[:2]
        scaled = (
            f", gateway → {args.rasa_processes} Rasa p95 {ten[2].ms(0.95):.1f} ms"
            if len(ten) > 2
            else ""
        )
        print(
            f"\n10 users: gateway p95 {gw.ms(0.95):.1f} ms, Rasa direct p95 {rasa.ms(0.95):.1f} ms"
            f"{scaled} (target <= 150 ms)"
        )


if __name__ == "__main__":
    main()
