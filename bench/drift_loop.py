"""The drift loop on the local stack: time from drift onset to detection, and to the
challenger serving.

Everything runs as its own process, as ``llmops up`` starts it: MLflow, two echo
replicas (the champion's and the challenger's; the model's answers are not what is
measured), the gateway (request log in SQLite, routes file reloaded), and
``llmops drift monitor`` (two-sample tests, MiniLM prompt embeddings for the topic; on
data drift, a real ``llmops finetune run`` of the bundled SmolLM2 and ``llmops models
promote``).

Ordinary traffic (geography questions) runs first to fill the reference window; at
the onset it switches to a new domain (contract law). The script polls the
monitor's ``llmops_drift_detected`` and the gateway's ``x-llmops-upstream`` header.
Target: the challenger serves in under 10 minutes. Run: ``.venv/bin/python bench/drift_loop.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench._services import Stack, free_port, http_get, llmops, start_echo, start_gateway
from llmops.local import mlflow

MODEL = "smollm2"
COUNTRIES = ("France", "Spain", "Italy", "Japan", "Canada", "Brazil", "Kenya", "Peru", "Norway")
ORDINARY = ("What is the capital of {c}?", "Which language is spoken in {c}?")
NEW_DOMAIN = (
    "Under clause {n} of the commercial lease, the tenant must indemnify the landlord against "
    "third-party claims arising from negligence; summarise the tenant's obligations.",
    "Draft a termination notice under section {n} of the services agreement, citing the "
    "material breach, the cure period and the governing-law clause.",
)


def prompt(rng: random.Random, new_domain: bool) -> str:
    if new_domain:
        return rng.choice(NEW_DOMAIN).format(n=rng.randint(2, 40))
    return rng.choice(ORDINARY).format(c=rng.choice(COUNTRIES))


def ask(gateway: str, key: str, text: str) -> str | None:
    """One chat request; the replica that answered (``x-llmops-upstream``)."""
    import urllib.request

    body = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": text}]}
    request = urllib.request.Request(
        f"{gateway}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        upstream: str | None = response.headers.get("x-llmops-upstream")
        return upstream


def drift_detected(metrics_url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(metrics_url, timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return False
    return f'llmops_drift_detected{{deployment="{MODEL}"}} 1.0' in text


def write_configs(
    workdir: Path, champion: str, challenger: str, mlflow_url: str, args: argparse.Namespace
) -> tuple[Path, Path]:
    routes = workdir / "routes.yaml"
    routes.write_text(
        yaml.safe_dump(
            {"models": [{"name": MODEL, "versions": [
                {"version": "champion", "weight": 1.0, "upstreams": [champion]}]}]}
        )
    )  # fmt: skip
    gateway = workdir / "gateway.yaml"
    gateway.write_text(
        yaml.safe_dump(
            {
                "database_url": f"sqlite:///{workdir / 'gateway.db'}",
                "key_hash_secret": "bench-key-hash-secret-0123456789",
                "access_log": False,
                "log_level": "warning",
                "routes_file": str(routes),
                "models": [{"name": MODEL, "upstreams": [champion]}],
            }
        )
    )
    rng = random.Random(1)
    train = workdir / "train.jsonl"
    train.write_text(
        "".join(
            json.dumps({"messages": [
                {"role": "user", "content": prompt(rng, False)},
                {"role": "assistant", "content": "Here is the answer."}]}) + "\n"
            for _ in range(16)
        )
    )  # fmt: skip
    evaluation = workdir / "eval.jsonl"  # two held-out rows: evaluation generates answers
    evaluation.write_text("".join(train.read_text().splitlines(keepends=True)[:2]))
    monitor: dict[str, Any] = {
        "database_url": f"sqlite:///{workdir / 'gateway.db'}",
        "tracking_uri": mlflow_url,
        "routes_file": str(routes),
        "state_dir": str(workdir / "drift"),
        "interval_seconds": args.interval,
        "deployments": [
            {
                "name": MODEL,
                "registered_model": "drift-bench",
                "champion_upstreams": [champion],
                "reference_window": args.reference,
                "current_window": args.current,
                "policy": {"min_samples": 50},
                "retrain": {
                    "base": "bundled:smollm2",
                    "data": [str(train)],
                    "eval": str(evaluation),
                    "options": {
                        "max-steps": args.steps,
                        "batch-size": 2,
                        "max-seq-len": 192,
                        "output": str(workdir / "finetune"),
                    },
                },
                "canary": {"weight": 0.5, "upstreams": [challenger], "soak_seconds": 3600},
            }
        ],
    }
    config = workdir / "drift.yaml"
    config.write_text(yaml.safe_dump(monitor))
    return gateway, config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=4.0, help="requests per second")
    parser.add_argument("--reference", type=float, default=120.0, help="reference window, s")
    parser.add_argument("--current", type=float, default=45.0, help="current window, s")
    parser.add_argument("--interval", type=float, default=30.0, help="monitor interval, s")
    parser.add_argument("--steps", type=int, default=4, help="fine-tune steps")
    parser.add_argument("--limit", type=float, default=900.0, help="give up after, s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="drift-bench-") as tmp, Stack(Path(tmp)) as stack:
        workdir = Path(tmp)
        port = free_port()
        mlflow_url = f"http://127.0.0.1:{port}"
        argv = mlflow.server_argv(f"sqlite:///{workdir / 'mlflow.db'}", workdir / "art", port=port)
        stack.start("mlflow", argv).wait_until(
            lambda: http_get(f"{mlflow_url}/health") == 200, timeout=180
        )
        champion, challenger = start_echo(stack), start_echo(stack)
        gateway_config, monitor_config = write_configs(
            workdir, champion, challenger, mlflow_url, args
        )
        gateway = start_gateway(stack, gateway_config)
        key = llmops(gateway_config, "keys", "create", "--team", "bench").strip().splitlines()[-1]
        metrics_port = free_port()
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        argv = [sys.executable, "-m", "llmops.cli", "drift", "monitor", "--config",
                str(monitor_config), "--metrics-port", str(metrics_port)]  # fmt: skip
        monitor = stack.start("monitor", argv)
        monitor.wait_until(lambda: http_get(metrics_url) == 200, timeout=120)
        false_alarm, detected, served = replay(gateway, key, metrics_url, challenger, args)
        report(args, false_alarm, detected, served)
        if served is None:
            print(monitor.tail(40))


def replay(
    gateway: str, key: str, metrics_url: str, challenger: str, args: argparse.Namespace
) -> tuple[bool, float | None, float | None]:
    """Reference traffic, then the new domain until the challenger answers; whether drift
    was flagged before the onset, and the seconds from onset to detection and serving."""
    rng = random.Random(2)
    period = 1.0 / args.rate
    print(f"reference traffic for {args.reference:.0f} s at {args.rate:g} req/s ...")
    end = time.monotonic() + args.reference
    while time.monotonic() < end:
        ask(gateway, key, prompt(rng, False))
        time.sleep(period)
    false_alarm = drift_detected(metrics_url)
    onset = time.monotonic()
    print("onset: new-domain traffic starts")
    detected: float | None = None
    served: float | None = None
    while served is None and time.monotonic() - onset < args.limit:
        upstream = ask(gateway, key, prompt(rng, True))
        now = time.monotonic() - onset
        if detected is None and drift_detected(metrics_url):
            detected = now
            print(f"  drift detected at +{now:.0f} s")
        if upstream == challenger:
            served = now
            print(f"  challenger answered at +{now:.0f} s")
        time.sleep(period)
    return false_alarm, detected, served


def report(
    args: argparse.Namespace, false_alarm: bool, detected: float | None, served: float | None
) -> None:
    print()
    print(
        f"machine: {len(os.sched_getaffinity(0))} CPUs; monitor interval {args.interval:g} s, "
        f"windows {args.reference:g} s / {args.current:g} s, fine-tune {args.steps} LoRA steps"
    )
    print(f"drift flagged before onset:      {'yes' if false_alarm else 'no'}")
    print(f"onset -> drift detected:          {_fmt(detected)}")
    print(f"onset -> challenger serving:      {_fmt(served)}")
    if detected is not None and served is not None:
        print(
            f"detected -> challenger serving:   {served - detected:.0f} s "
            "(fine-tune, registration, gates, routes reload)"
        )
    verdict = served is not None and served < 600
    print(f"target (challenger serving under 600 s): {'met' if verdict else 'NOT met'}")


def _fmt(seconds: float | None) -> str:
    return f"{seconds:.0f} s" if seconds is not None else "not within the limit"


if __name__ == "__main__":
    main()
