"""How closely one team's budget holds across four gateway replicas sharing Redis, beside
what per-replica counting lets through.

Four ``llmops gateway serve`` processes share one private redis-server and one SQLite
key store and spend table, in front of one echo replica priced at 1 per million prompt
tokens and 4 per million completion tokens. The team ``budget-shared`` has a daily
budget worth about 150 requests; 64 clients, spread round-robin over the gateways, send
chat requests back to back (retrying a few milliseconds after a 429) for the whole run.
Every 200 is recorded with its ``x-llmops-cost``. Then the same load, for the team
``budget-local``, goes to four gateways without Redis: each keeps its budget counts in
its own memory (started from the spend table), as per-replica counting does.

The gateway reserves the worst-case cost (estimated prompt, and ``max_tokens`` of
completion) at admission and settles to the real cost afterwards; the prompt has more
words than ``max_tokens``, so every reply costs the same. Figures are printed beside
their targets; nothing is asserted.

    python bench/budget_accuracy.py [--duration 60] [--clients 64] [--requests 150]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import aiohttp
import orjson
import yaml

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench import _services
from gateway import tokens

GATEWAYS = 4
MAX_TOKENS = 20
PROMPT = " ".join(["go"] * (MAX_TOKENS + 4))  # more words than max_tokens: replies are full
MESSAGES = [{"role": "user", "content": PROMPT}]
BODY = orjson.dumps({"model": "echo", "messages": MESSAGES, "max_tokens": MAX_TOKENS})
PRICE = {"input": "1", "output": "4"}  # per million tokens
ESTIMATED_PROMPT = tokens.chat_prompt_tokens(MESSAGES, tokens.EstimatedCounter())
RESERVATION = (
    ESTIMATED_PROMPT * Decimal(PRICE["input"]) + MAX_TOKENS * Decimal(PRICE["output"])
) / 10**6
WARM_UP_SECONDS = 2.0


@dataclass
class Run:
    costs: list[Decimal] = field(default_factory=list)
    """``x-llmops-cost`` of each 200."""
    by_gateway: Counter[int] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    """429s by error code."""
    other: Counter[str] = field(default_factory=Counter)
    requests: int = 0


def start_gateways(
    stack: _services.Stack, echo_url: str, redis_url: str | None, name: str
) -> tuple[list[str], Path]:
    """Four gateways (sharing ``redis_url``, or each on its own without it): their chat
    URLs and their settings file."""
    config = _services.write_gateway_config(
        stack.workdir, echo_url=echo_url, redis_url=redis_url or "", migrate_on_start=False
    )
    settings = yaml.safe_load(config.read_text())
    if redis_url is None:
        del settings["redis_url"]
    settings["models"][0]["price"] = PRICE
    settings["database_url"] = f"sqlite:///{stack.workdir / 'gateway.db'}"
    settings["key_hash_secret"] = "bench-key-hash-secret-budgets"
    path = stack.workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(settings))
    _services.llmops(path, "gateway", "migrate")
    urls = [
        _services.start_gateway(stack, path, name=f"{name}-{i + 1}") + "/v1/chat/completions"
        for i in range(GATEWAYS)
    ]
    return urls, path


async def client(
    session: aiohttp.ClientSession, url: str, gateway: int, *, key: str, deadline: float, run: Run
) -> None:
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    while time.monotonic() < deadline:
        run.requests += 1
        try:
            async with session.post(url, data=BODY, headers=headers) as response:
                status, data = response.status, await response.read()
                cost = response.headers.get("x-llmops-cost")
        except (aiohttp.ClientError, TimeoutError) as e:
            run.other[type(e).__name__] += 1
            continue
        if status == 200 and cost is not None:
            run.costs.append(Decimal(cost))
            run.by_gateway[gateway] += 1
            continue
        if status == 429:
            run.refused[orjson.loads(data)["error"]["code"]] += 1
        else:
            run.other[str(status)] += 1
        await asyncio.sleep(0.005)


async def load(urls: list[str], key: str, *, clients: int, duration: float) -> Run:
    run = Run()
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=60)
    ) as session:
        deadline = time.monotonic() + duration
        await asyncio.gather(
            *(
                client(
                    session, urls[i % len(urls)], i % len(urls), key=key, deadline=deadline, run=run
                )
                for i in range(clients)
            )
        )
    return run


def measure(
    urls: list[str], config: Path, team: str, budget: Decimal, args: argparse.Namespace
) -> Run:
    warm = _services.create_key(config, f"{team}-warm-up")
    print(f"{team}: warming up for {WARM_UP_SECONDS:g} s through a team without a budget ...")
    asyncio.run(load(urls, warm, clients=args.clients, duration=WARM_UP_SECONDS))
    _services.llmops(
        config, "teams", "set-budget", team, "--amount", str(budget), "--period", "day"
    )
    key = _services.create_key(config, team)
    print(f"{team}: {args.clients} clients for {args.duration:g} s ...", flush=True)
    return asyncio.run(load(urls, key, clients=args.clients, duration=args.duration))


def report(name: str, run: Run, budget: Decimal, per_request: Decimal) -> None:
    spent = sum(run.costs, Decimal(0))
    print(
        f"\n{name}: {len(run.costs)} x 200, {dict(run.refused)} x 429, other {dict(run.other) or 0}"
    )
    print(f"  per gateway (200s): {[run.by_gateway[g] for g in range(GATEWAYS)]}")
    print(f"  spent {spent} of a budget of {budget}: {spent / budget:.4f} of it")
    over = max(Decimal(0), spent - budget)
    print(
        f"  over the budget by {over} = {over / RESERVATION:.2f} x one reservation ({RESERVATION})"
    )
    print(f"  {len(run.costs)} requests admitted, {budget / per_request:.1f} fit in the budget")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=150, help="requests the budget pays for")
    args = parser.parse_args()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="llmops-bench-") as tmp,
            _services.Stack(Path(tmp)) as stack,
        ):
            echo_url = _services.start_echo(stack)
            redis_url = _services.start_redis(stack)
            urls, config = start_gateways(stack, echo_url, redis_url, "shared")
            # What one request costs, from the usage the replica reports.
            probe = _services.create_key(config, "budget-probe")
            status, reply = _services.post_json(urls[0], orjson.loads(BODY), token=probe)
            if status != 200:
                raise RuntimeError(f"the probe was answered {status}: {reply}")
            usage = reply["usage"]
            per_request = (
                usage["prompt_tokens"] * Decimal(PRICE["input"])
                + usage["completion_tokens"] * Decimal(PRICE["output"])
            ) / 10**6
            budget = per_request * args.requests
            shared = measure(urls, config, "budget-shared", budget, args)
            stack.report_logs("shared")
            urls, config = start_gateways(stack, echo_url, None, "local")
            local = measure(urls, config, "budget-local", budget, args)
            stack.report_logs("local")
    except KeyboardInterrupt:
        print("\ninterrupted: every process started was stopped", file=sys.stderr)
        sys.exit(130)
    print(f"\none request costs {per_request}; it reserves {RESERVATION} at admission")
    report("budget shared through Redis (4 gateways)", shared, budget, per_request)
    report("per-replica counters (4 gateways, no Redis)", local, budget, per_request)
    spent = sum(shared.costs, Decimal(0))
    within = abs(spent - budget) / budget <= Decimal("0.01")
    bounded = spent <= budget + RESERVATION
    print(
        f"\ntarget: spend within 1% of the budget: {'met' if within else 'NOT met'}; "
        f"never over it by more than one reservation: {'met' if bounded else 'NOT met'}"
    )
    local_spent = sum(local.costs, Decimal(0))
    print(
        f"per-replica counting spent {local_spent / budget:.2f} x the budget; shared: {spent / budget:.4f} x"
    )


if __name__ == "__main__":
    main()
