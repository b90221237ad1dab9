"""What the gateway adds to a request, beside the LiteLLM proxy, against one fast echo replica.

Three targets in one run, each one process on loopback in front of the same
echo replica (itself a process of its own):

* ``direct``: the echo replica itself, the baseline;
* ``llmops``: ``llmops gateway serve`` with key auth and Redis limits on (a
  private redis-server; a team key with generous rpm/tpm limits), no access log;
* ``litellm``: the LiteLLM proxy (pinned, installed into ``bench/.venv-litellm``
  on first use), master key, no database, logs at ERROR.

Each target is warmed up, then loaded at each concurrency with wrk (closed
loop, one thread). With two or more CPUs the proxy under test gets the last one
to itself, and the load generator, the replica and Redis share the others.
Figures and ratios are printed beside their targets; nothing is asserted.

    python bench/gateway_overhead.py [--duration 10] [--concurrency 1,16,128] [--skip-litellm]
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench import _load, _services

LITELLM = "litellm[proxy]==1.106.2"
LITELLM_VENV = Path(__file__).resolve().parent / ".venv-litellm"
PROMPT = "Say hello to the benchmark, then stop."
BODY = {"model": "echo", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 16}
TARGET_ADDED_P50_MS = 1.5
TARGET_THROUGHPUT_RATIO = 5.0
GENEROUS = ["--rpm", "1000000000", "--tpm", "2000000000"]


def litellm_binary() -> Path:
    """The pinned LiteLLM proxy in its own virtualenv, installed there when missing."""
    python, binary = LITELLM_VENV / "bin" / "python", LITELLM_VENV / "bin" / "litellm"
    version = LITELLM.rpartition("==")[2]
    probe = "import importlib.metadata as m; print(m.version('litellm'))"
    if binary.exists():
        found = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False)
        if found.stdout.strip() == version:
            return binary
    print(f"installing {LITELLM} into {LITELLM_VENV} (about a minute, ~750 MB) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, LITELLM], check=True)
    return binary


def start_llmops(stack: _services.Stack, echo_url: str, cpus: Sequence[int]) -> _load.Target:
    redis_url = _services.start_redis(stack, cpus=cpus)
    config = _services.write_gateway_config(stack.workdir, echo_url=echo_url, redis_url=redis_url)
    key = _services.create_key(config, "bench", *GENEROUS)
    _services.llmops(config, "teams", "set-limits", "bench", *GENEROUS)
    url = _services.start_gateway(stack, config, cpus=cpus)
    return _load.Target("llmops", f"{url}/v1/chat/completions", key)


def start_litellm(
    stack: _services.Stack, binary: Path, echo_url: str, cpus: Sequence[int]
) -> _load.Target:
    master_key = "sk-bench-" + secrets.token_hex(8)
    config = stack.workdir / "litellm.yaml"
    model = {"model": "openai/echo", "api_base": echo_url, "api_key": "sk-dummy"}
    settings = {
        "model_list": [{"model_name": "echo", "litellm_params": model}],
        "general_settings": {"master_key": master_key},
    }
    config.write_text(yaml.safe_dump(settings))
    port = _services.free_port()
    # LITELLM_LOG=ERROR turns its per-request access log off, as ours is.
    env = {**_services.CLEAN_ENV, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
    argv = [str(binary), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    service = stack.start("litellm", [*argv, "--num_workers", "1"], env=env, cpus=cpus)
    url = f"http://127.0.0.1:{port}"
    print("waiting for LiteLLM to start (10-40 s) ...", flush=True)
    service.wait_until(lambda: _services.http_get(f"{url}/health/liveliness") == 200, timeout=180)
    return _load.Target("litellm", f"{url}/v1/chat/completions", master_key)


def check(target: _load.Target) -> None:
    """One request, before any load: a 200 whose body is the echo reply with usage."""
    status, reply = _services.post_json(target.url, BODY, token=target.token)
    try:
        content = reply["choices"][0]["message"]["content"]
        usage = reply["usage"]["completion_tokens"]
    except (KeyError, IndexError, TypeError):
        content = usage = None
    if status != 200 or content != PROMPT or usage != len(PROMPT.split()):
        raise RuntimeError(f"{target.name} answered {status}: {json.dumps(reply)[:500]}")
    print(f"  {target.name:8} 200, reply and usage correct")


def _one_client(
    results: dict[tuple[str, int], _load.LoadResult], name: str
) -> _load.LoadResult | None:
    return results.get((name, 1))


def report(
    results: dict[tuple[str, int], _load.LoadResult], names: Sequence[str], levels: Sequence[int]
) -> None:
    head = f"{'target':8} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    print(f"\n{head} {'+p50 ms':>8} {'+p99 ms':>8} {'non-2xx':>8} {'sock err':>8}")
    for level in levels:
        base = results[("direct", level)]
        for name in names:
            r = results[(name, level)]
            extra = (
                f"{r.p50_ms - base.p50_ms:8.2f} {r.p99_ms - base.p99_ms:8.2f}"
                if name != "direct"
                else f"{'':8} {'':8}"
            )
            print(
                f"{name:8} {level:5d} {r.requests_per_second:9.0f} {r.p50_ms:8.2f} "
                f"{r.p99_ms:8.2f} {extra} {r.non_2xx:8d} {r.socket_errors:8d}"
            )
    saturation = {
        name: max(results[(name, level)].requests_per_second for level in levels) for name in names
    }
    print("\nrequests/s at saturation (max over concurrencies):")
    for name in names:
        print(f"  {name:8} {saturation[name]:9.0f}")
    direct_one = _one_client(results, "direct")
    ours_one = _one_client(results, "llmops")
    if direct_one is not None and ours_one is not None:
        added = ours_one.p50_ms - direct_one.p50_ms
        verdict = "met" if added <= TARGET_ADDED_P50_MS else "NOT met"
        print(
            f"\nllmops added p50 at one client: {added:.2f} ms "
            f"(target <= {TARGET_ADDED_P50_MS} ms: {verdict})"
        )
    if "litellm" not in names:
        return
    ratio = saturation["llmops"] / saturation["litellm"]
    verdict = "met" if ratio >= TARGET_THROUGHPUT_RATIO else "NOT met"
    print(
        f"throughput llmops/litellm at saturation: {ratio:.2f}x "
        f"(target >= {TARGET_THROUGHPUT_RATIO:.0f}x: {verdict})"
    )
    theirs_one = _one_client(results, "litellm")
    if direct_one is not None and ours_one is not None and theirs_one is not None:
        ours, theirs = ours_one.p50_ms - direct_one.p50_ms, theirs_one.p50_ms - direct_one.p50_ms
        print(
            f"added p50 at one client: llmops {ours:.2f} ms, litellm {theirs:.2f} ms, "
            f"llmops/litellm {ours / theirs:.2f}"
        )


def run(args: argparse.Namespace) -> None:
    levels = sorted(set(args.concurrency))
    litellm = None if args.skip_litellm else litellm_binary()
    proxy_cpus, other_cpus = _services.split_cpus(not args.no_pin)
    with (
        tempfile.TemporaryDirectory(prefix="llmops-bench-") as tmp,
        _services.Stack(Path(tmp)) as stack,
    ):
        load = _load.LoadGenerator(stack.workdir, json.dumps(BODY).encode(), cpus=other_cpus)
        print(f"load generator: {load.description}")
        print(f"CPUs: proxy under test on {proxy_cpus or 'any'}, the rest on {other_cpus or 'any'}")
        echo_url = _services.start_echo(stack, cpus=other_cpus)
        targets = [
            _load.Target("direct", f"{echo_url}/chat/completions", "none"),
            start_llmops(stack, echo_url, proxy_cpus),
        ]
        if litellm is not None:
            targets.append(start_litellm(stack, litellm, echo_url, proxy_cpus))
        print("checking each target once:")
        for target in targets:
            check(target)
        for target in targets:
            load.measure(target, connections=16, duration=args.warmup)
        results: dict[tuple[str, int], _load.LoadResult] = {}
        for level in levels:
            for target in targets:
                print(f"  {target.name} at {level} connections for {args.duration:g}s", flush=True)
                results[(target.name, level)] = load.measure(
                    target, connections=level, duration=args.duration
                )
        stack.report_logs("gateway")
    report(results, [t.name for t in targets], levels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per level")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per target")
    parser.add_argument(
        "--concurrency",
        type=lambda text: [int(v) for v in text.split(",")],
        default=[1, 16, 128],
        help="comma-separated connection counts (default: 1,16,128)",
    )
    parser.add_argument("--skip-litellm", action="store_true", help="only direct and llmops")
    parser.add_argument("--no-pin", action="store_true", help="let processes run on any CPU")
    try:
        run(parser.parse_args())
    except KeyboardInterrupt:
        print("\ninterrupted: every process started was stopped", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
