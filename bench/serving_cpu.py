"""Tokens per second of the CPU engine: one stream against eight, alone and behind the gateway.

Two targets in one run, in front of one model replica (``llmops serve --standalone``,
or ``--ray`` for the Ray Serve application) serving the bundled SmolLM2-135M:

* ``direct``: the replica itself;
* ``gateway``: ``llmops gateway serve`` (key auth, Redis limits) in front of it.

Each target is loaded at 1 and at N concurrent streams (closed loop: each stream
sends its next request when the last one ends) for a fixed time. Every request is
a greedy streamed chat completion with the same prompts in the same order, so the
two targets generate the same tokens. Printed: aggregate completion tokens per
second, mean request latency, the ratio aggregate(N)/aggregate(1) (batching at
work; target >= 3x) and the gateway's added end-to-end latency at N (target <= 2%).

    python bench/serving_cpu.py [--duration 40] [--streams 8] [--max-tokens 128] [--ray]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import openai
import yaml

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench import _services

MODEL = "SmolLM2-135M-Instruct"
TARGET_RATIO = 3.0
TARGET_ADDED_LATENCY = 0.02
GENEROUS = ["--rpm", "1000000000", "--tpm", "2000000000"]
TOPICS = ["lighthouse", "glacier", "violin", "orchard", "comet", "harbour", "desert", "library"]


@dataclass(frozen=True)
class Phase:
    target: str
    streams: int
    requests: int
    tokens: int
    seconds: float
    latencies: list[float]

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds

    @property
    def mean_latency(self) -> float:
        return statistics.fmean(self.latencies)


async def one_request(
    client: openai.AsyncOpenAI, model: str, topic: str, max_tokens: int
) -> tuple[int, float]:
    started = time.monotonic()
    stream = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": f"Write a long story about a {topic}."}],
        max_tokens=max_tokens,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    tokens = 0
    async for chunk in stream:
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    return tokens, time.monotonic() - started


async def load(
    name: str,
    base_url: str,
    key: str,
    *,
    streams: int,
    duration: float,
    max_tokens: int,
    model: str = MODEL,
) -> Phase:
    client = openai.AsyncOpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=600)
    latencies: list[float] = []
    tokens = 0
    deadline = time.monotonic() + duration

    async def worker(index: int) -> None:
        nonlocal tokens
        turn = 0
        while time.monotonic() < deadline:
            topic = TOPICS[(index + turn) % len(TOPICS)]
            got, seconds = await one_request(client, model, topic, max_tokens)
            tokens += got
            latencies.append(seconds)
            turn += 1

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(streams)))
    elapsed = time.monotonic() - started
    await client.close()
    return Phase(name, streams, len(latencies), tokens, elapsed, latencies)


def start_replica(stack: _services.Stack, *, ray: bool) -> str:
    """The replica in its own process, ready; its OpenAI base URL."""
    port = _services.free_port()
    config = stack.workdir / "serve.yaml"
    config.write_text(yaml.safe_dump({"port": port, "ray": {"num_cpus": 2}}))
    argv = [sys.executable, "-m", "llmops.cli", "serve", "--config", str(config)]
    if not ray:
        argv.append("--standalone")
    print(f"starting the replica ({'Ray Serve' if ray else 'standalone'}) ...", flush=True)
    service = stack.start("replica", argv, env={**_services.CLEAN_ENV, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}"
    service.wait_until(lambda: _services.http_get(f"{url}/healthz") == 200, timeout=300)
    return f"{url}/v1"


def start_gateway(stack: _services.Stack, replica_url: str, model: str = MODEL) -> tuple[str, str]:
    """The gateway in front of the replica; its OpenAI base URL and a key."""
    redis_url = _services.start_redis(stack)
    config = _services.write_gateway_config_for(
        stack.workdir, models={model: replica_url}, redis_url=redis_url
    )
    key = _services.create_key(config, "bench", *GENEROUS)
    _services.llmops(config, "teams", "set-limits", "bench", *GENEROUS)
    return f"{_services.start_gateway(stack, config)}/v1", key


def run_phases(
    replica: str, gateway: str, key: str, args: argparse.Namespace, *, model: str = MODEL
) -> list[Phase]:
    """Each target loaded at 1 and at ``args.streams`` streams, the replica then the gateway."""
    phases = []
    for streams in (1, args.streams):
        for name, url, token in (("direct", replica, "unused"), ("gateway", gateway, key)):
            print(f"{name}, {streams} stream(s), {args.duration:.0f} s ...", flush=True)
            phase = load(
                name,
                url,
                token,
                streams=streams,
                duration=args.duration,
                max_tokens=args.max_tokens,
                model=model,
            )
            phases.append(asyncio.run(phase))
    return phases


def report(phases: list[Phase], streams: int) -> None:
    print(
        f"\n{'target':<10}{'streams':>8}{'requests':>10}{'tokens':>8}{'tok/s':>9}{'mean latency':>14}"
    )
    for p in phases:
        print(
            f"{p.target:<10}{p.streams:>8}{p.requests:>10}{p.tokens:>8}"
            f"{p.tokens_per_second:>9.1f}{p.mean_latency:>13.2f}s"
        )
    by = {(p.target, p.streams): p for p in phases}
    for target in ("direct", "gateway"):
        ratio = by[target, streams].tokens_per_second / by[target, 1].tokens_per_second
        verdict = "meets" if ratio >= TARGET_RATIO else "misses"
        print(
            f"{target}: aggregate({streams})/single = {ratio:.2f}x ({verdict} the {TARGET_RATIO:.0f}x target)"
        )
    # Latency per generated token: the same prompts give the same greedy outputs on both
    # targets, but a phase's last round may be cut at a different request.
    direct, gateway = by["direct", streams], by["gateway", streams]
    per_token = [p.seconds * p.streams / p.tokens for p in (direct, gateway)]
    added = per_token[1] / per_token[0] - 1
    verdict = "meets" if added <= TARGET_ADDED_LATENCY else "misses"
    print(
        f"gateway adds {added * 100:+.1f}% end-to-end latency per token at {streams} streams "
        f"({verdict} the {TARGET_ADDED_LATENCY * 100:.0f}% target)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=40.0, help="seconds per phase")
    parser.add_argument(
        "--streams", type=int, default=8, help="concurrent streams of the batched phase"
    )
    parser.add_argument("--max-tokens", type=int, default=128, help="completion tokens per request")
    parser.add_argument("--ray", action="store_true", help="serve with Ray Serve, not standalone")
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="llmops-bench-") as tmp,
        _services.Stack(Path(tmp)) as stack,
    ):
        replica = start_replica(stack, ray=args.ray)
        gateway, key = start_gateway(stack, replica)
        print("warming up ...", flush=True)
        asyncio.run(load("warmup", replica, "unused", streams=2, duration=1, max_tokens=8))
        report(run_phases(replica, gateway, key, args), args.streams)


if __name__ == "__main__":
    main()
