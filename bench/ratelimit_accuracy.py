"""How closely one team's token limit holds across four gateway replicas sharing Redis.

Four ``llmops gateway serve`` processes share one private redis-server and one
SQLite key store (migrated once, before they start) in front of one echo
replica. The team ``accuracy`` has a limit of 6,000 tokens a minute and no
other; 64 clients, spread round-robin over the four gateways, send short chat
requests with a fixed ``max_tokens`` back to back, retrying at once (after a
few milliseconds) on 429. Every 200 is recorded with its time and the
``usage.total_tokens`` of its body. Before the run, the same load goes for a
moment through a team without limits, so that connections and pools are open.

The gateway reserves the estimated prompt plus ``max_tokens`` at admission and
settles to the real usage afterwards; the echo replica bills ceil(chars/4)
prompt tokens and one token a word of its reply, and the prompt has more words
than ``max_tokens``, so every reply costs the same. Figures are printed beside
their targets; nothing is asserted.

    python bench/ratelimit_accuracy.py [--duration 60] [--clients 64] [--pause 0.005]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench import _services
from gateway import tokens

TEAM = "accuracy"
LIMIT_TPM = 6000
WINDOW_SECONDS = 60.0  # the gateway's default limits.window_seconds
GATEWAYS = 4
MAX_TOKENS = 20
PROMPT = " ".join(["go"] * (MAX_TOKENS + 4))  # more words than max_tokens: replies are full
MESSAGES = [{"role": "user", "content": PROMPT}]
BODY = orjson.dumps({"model": "echo", "messages": MESSAGES, "max_tokens": MAX_TOKENS})
WARM_UP_SECONDS = 2.0
RESERVATION = tokens.chat_prompt_tokens(MESSAGES, tokens.EstimatedCounter()) + MAX_TOKENS


@dataclass(frozen=True)
class Admitted:
    sent: float
    received: float
    """Seconds since the clients started; the admission happened in between."""
    tokens: int
    gateway: int


@dataclass
class Tally:
    admitted: list[Admitted] = field(default_factory=list)
    refused: Counter[int] = field(default_factory=Counter)
    """429s, by gateway."""
    other: Counter[str] = field(default_factory=Counter)


def start_stack(stack: _services.Stack) -> tuple[list[str], str, str]:
    """The gateways' chat URLs, the measured team's key and an unlimited team's key."""
    echo_url = _services.start_echo(stack)
    redis_url = _services.start_redis(stack)
    config = _services.write_gateway_config(
        stack.workdir, echo_url=echo_url, redis_url=redis_url, migrate_on_start=False
    )
    _services.llmops(config, "gateway", "migrate")
    _services.llmops(config, "teams", "set-limits", TEAM, "--tpm", str(LIMIT_TPM))
    key = _services.create_key(config, TEAM)
    # The checks before the run go through another team, so as not to spend the measured budget.
    check_key = _services.create_key(config, "accuracy-check")
    urls = [
        _services.start_gateway(stack, config, name=f"gateway-{i + 1}") + "/v1/chat/completions"
        for i in range(GATEWAYS)
    ]
    return urls, key, check_key


def check(urls: list[str], key: str) -> None:
    words = PROMPT.split()[:MAX_TOKENS]
    for i, url in enumerate(urls):
        status, reply = _services.post_json(url, json.loads(BODY), token=key)
        ok = status == 200 and reply["choices"][0]["message"]["content"] == " ".join(words)
        if not ok or reply["usage"]["completion_tokens"] != MAX_TOKENS:
            raise RuntimeError(f"gateway {i + 1} answered {status}: {json.dumps(reply)[:500]}")
    print(f"each of the {len(urls)} gateways answered 200 with the expected reply")


def look_up(urls: list[str], key: str) -> None:
    """Have every gateway look the measured key up, without spending any of its budget.

    A request for an unknown model is refused after authentication and before admission.
    """
    for url in urls:
        status, reply = _services.post_json(url, {**json.loads(BODY), "model": "none"}, token=key)
        if status != 404:
            raise RuntimeError(f"expected 404 for an unknown model, got {status}: {reply}")


async def one_client(
    session: aiohttp.ClientSession,
    url: str,
    gateway: int,
    key: str,
    *,
    start: float,
    deadline: float,
    pause: float,
    tally: Tally,
) -> None:
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    while (sent := time.monotonic()) < deadline:
        try:
            async with session.post(url, data=BODY, headers=headers) as response:
                status, data = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as e:
            tally.other[type(e).__name__] += 1
            await asyncio.sleep(pause)
            continue
        if status == 200:
            used = orjson.loads(data)["usage"]["total_tokens"]
            received = time.monotonic() - start
            tally.admitted.append(Admitted(sent - start, received, used, gateway))
            continue
        if status == 429:
            tally.refused[gateway] += 1
        else:
            tally.other[str(status)] += 1
        await asyncio.sleep(pause)


async def drive(urls: list[str], key: str, *, clients: int, duration: float, pause: float) -> Tally:
    tally = Tally()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=timeout
    ) as session:
        start = time.monotonic()
        await asyncio.gather(
            *(
                one_client(
                    session,
                    urls[i % len(urls)],
                    i % len(urls),
                    key,
                    start=start,
                    deadline=start + duration,
                    pause=pause,
                    tally=tally,
                )
                for i in range(clients)
            )
        )
    return tally


def busiest_window(times_tokens: list[tuple[float, int]], window: float, run: float) -> int:
    """The most tokens in any ``window`` that fits in ``[0, run]`` (the first one if none fits)."""
    events = sorted(times_tokens)
    best = sum(n for t, n in events if t < window)
    total, end = 0, 0
    for begin, (t0, _) in enumerate(events):
        if t0 + window > run:
            break
        while end < len(events) and events[end][0] < t0 + window:
            total += events[end][1]
            end += 1
        best = max(best, total)
        total -= events[begin][1]
    return best


def window_bounds(admitted: list[Admitted], window: float, run: float) -> tuple[int, int]:
    """The most tokens surely, and possibly, admitted in one ``window`` of the run.

    An admission happens between its request's sending and its answer: surely in
    a window if both fall in it, possibly if the two straddle any part of it.
    """
    surely = possibly = 0
    for begin in sorted({0.0, run - window, *(t for a in admitted for t in (a.sent, a.received))}):
        end = begin + window
        if begin < 0 or end > run:
            continue
        surely = max(
            surely, sum(a.tokens for a in admitted if begin <= a.sent and a.received < end)
        )
        possibly = max(
            possibly, sum(a.tokens for a in admitted if a.sent < end and a.received >= begin)
        )
    return surely, possibly


def verdict(low: float, value: float, high: float) -> str:
    return "met" if low <= value <= high else "NOT met"


def report(tally: Tally, duration: float) -> None:
    admitted = tally.admitted
    refused = sum(tally.refused.values())
    real = sorted({a.tokens for a in admitted})
    print(f"\nteam limit: {LIMIT_TPM} tokens per {WINDOW_SECONDS:.0f} s")
    print(
        f"one request: reserved {RESERVATION} tokens at admission "
        f"(estimated prompt + max_tokens {MAX_TOKENS}), settled to {real} (usage.total_tokens)"
    )
    print(
        f"responses: {len(admitted)} x 200, {refused} x 429, other {dict(tally.other) or 0} "
        f"({(len(admitted) + refused) / duration:.0f} requests/s over {duration:g} s)"
    )
    high = 1.0 + RESERVATION / LIMIT_TPM
    first = sum(a.tokens for a in admitted if a.received < WINDOW_SECONDS)
    note = "" if duration >= WINDOW_SECONDS else f" (the run lasted only {duration:g} s)"
    print(
        f"\nfirst {WINDOW_SECONDS:.0f} s window: {first} tokens admitted, "
        f"{first / LIMIT_TPM:.4f} of the limit{note} "
        f"(target [0.98, {high:.4f}]: {verdict(0.98, first / LIMIT_TPM, high)})"
    )
    latencies = sorted(a.received - a.sent for a in admitted) or [0.0]
    if duration > WINDOW_SECONDS:
        by_answer = busiest_window(
            [(a.received, a.tokens) for a in admitted], WINDOW_SECONDS, duration
        )
        surely, possibly = window_bounds(admitted, WINDOW_SECONDS, duration)
        print(f"busiest sliding {WINDOW_SECONDS:.0f} s window (target <= {high:.4f} of the limit):")
        for name, busiest in (
            ("by time of answer", by_answer),
            ("surely admitted in it", surely),
            ("possibly admitted in it", possibly),
        ):
            over = max(0, busiest - LIMIT_TPM)
            print(
                f"  {name:24} {busiest:5d} tokens, {busiest / LIMIT_TPM:.4f} of the limit; "
                f"overshoot {over} tokens = {over / RESERVATION:.2f} x one reservation ({RESERVATION})"
            )
        if possibly <= high * LIMIT_TPM:
            print("  target met, whatever the response times")
        elif surely > high * LIMIT_TPM:
            print("  target NOT met: the overshoot is there whatever the response times")
        else:
            print(
                "  no overshoot proven, none ruled out: response times blur when admissions"
                " happened,\n  and answer times can count admissions of two windows in one"
            )
    print(
        f"latency of the 200s: p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms"
    )
    print("\nper gateway:    200s    429s  tokens")
    for g in range(GATEWAYS):
        mine = [a.tokens for a in admitted if a.gateway == g]
        print(f"  gateway-{g + 1} {len(mine):7d} {tally.refused[g]:7d} {sum(mine):7d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients")
    parser.add_argument("--pause", type=float, default=0.005, help="seconds to wait after a 429")
    args = parser.parse_args()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="llmops-bench-") as tmp,
            _services.Stack(Path(tmp)) as stack,
        ):
            urls, key, check_key = start_stack(stack)
            check(urls, check_key)
            print(f"warming up for {WARM_UP_SECONDS:g} s through the unlimited team ...")
            asyncio.run(
                drive(urls, check_key, clients=args.clients, duration=WARM_UP_SECONDS, pause=0.05)
            )
            look_up(urls, key)
            print(f"{args.clients} clients for {args.duration:g} s ...", flush=True)
            tally = asyncio.run(
                drive(urls, key, clients=args.clients, duration=args.duration, pause=args.pause)
            )
            stack.report_logs("gateway")
    except KeyboardInterrupt:
        print("\ninterrupted: every process started was stopped", file=sys.stderr)
        sys.exit(130)
    report(tally, args.duration)


if __name__ == "__main__":
    main()
