"""The second loop on the laptop stack, timed stage by stage, with the challenger's win rate.

Real everywhere: the gateway (``llmops gateway serve``, SQLite request log, routes file),
MLflow, the bundled SmolLM2 on the CPU engine (``llmops serve --standalone``) as the
champion, ``llmops finetune run --recipe dpo`` and ``llmops eval run`` as child processes
driven by the drift monitor's feedback loop, and a second CPU replica following
``models:/NAME@challenger`` for the shadow period and the canary.

The users: support questions about a made-up product line, asked through the gateway;
each answer is corrected in the support team's house style ("Acme Support here: in X,
open Settings > Y and choose Z."). The corrections are the preference pairs' chosen
answers and the champion's answers the rejected ones. Held out: questions about other
product and task combinations, with the same house-style answer as chosen and the
champion's own answer as rejected; the suite compares the challenger with the champion
on them (``preference`` scorer: nearer the chosen answer wins).

Printed: each stage's seconds, the whole loop's, and the win rate with its 95% interval
and p-value. Targets: the loop under 10 minutes here, a win rate above 0.5.

    python bench/feedback_loop.py [--feedback 48] [--steps 40]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from mlflow import MlflowClient

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench import _services
from llmops.local import mlflow as local_mlflow
from llmops.monitoring.executor import CliRegistry, CliRunner, FineTuneSpec, LocalExecutor
from llmops.monitoring.feedback_loop import FeedbackLoop
from llmops.monitoring.reader import RequestLogReader, Window, engine_for
from llmops.monitoring.retrain import RetrainLoop
from llmops.monitoring.routes import RoutesFile, VersionShare
from llmops.monitoring.settings import MonitorSettings

MODEL = "smollm2"
REGISTERED = "acme-support"
TARGET_SECONDS = 600
PRODUCTS = ("Acme Cloud", "Acme Mail", "Acme Drive", "Acme Chat", "Acme Notes", "Acme Pay",
            "Acme Docs", "Acme Meet")  # fmt: skip
TASKS = (
    ("reset my password", "Security", "Reset password"),
    ("change my billing address", "Billing", "Edit address"),
    ("export my data", "Privacy", "Export data"),
    ("add a team member", "Team", "Invite member"),
    ("turn on two-factor login", "Security", "Two-factor login"),
    ("cancel my subscription", "Billing", "Cancel plan"),
    ("change the display language", "Preferences", "Language"),
    ("delete a project", "Projects", "Delete project"),
)
EVER = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def question(product: str, task: str) -> str:
    return f"How do I {task} in {product}?"


def house_answer(product: str, section: str, option: str) -> str:
    return f"Acme Support here: in {product}, open Settings > {section} and choose {option}."


def split_cases() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(question, house answer) for training, and others held out: every fourth combination."""
    cases = [
        (question(p, t), house_answer(p, s, o))
        for p, (t, s, o) in itertools.product(PRODUCTS, TASKS)
    ]
    return [c for i, c in enumerate(cases) if i % 4], [c for i, c in enumerate(cases) if not i % 4]


class Stages:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    async def timed(self, name: str, work: Awaitable[Any]) -> Any:
        started = time.perf_counter()
        try:
            return await work
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
            print(f"  {name}: {self.seconds[name]:.1f} s", flush=True)


class TimedExecutor:
    def __init__(self, inner: LocalExecutor, stages: Stages) -> None:
        self._inner, self._stages = inner, stages

    async def finetune(self, spec: FineTuneSpec) -> Any:
        return await self._stages.timed("DPO fine-tune (child process)", self._inner.finetune(spec))


class TimedRegistry:
    def __init__(self, inner: CliRegistry, stages: Stages) -> None:
        self._inner, self._stages = inner, stages

    async def evaluate(
        self, model: str, version: str, suite: Path, against: str | None = None
    ) -> tuple[str, ...]:
        work = self._inner.evaluate(model, version, suite, against)
        found: tuple[str, ...] = await self._stages.timed("suite against the champion", work)
        return found

    async def promote(self, *args: Any, **kwargs: Any) -> Any:
        return await self._stages.timed("gates and promotion", self._inner.promote(*args, **kwargs))

    async def rollback(self, model: str) -> None:
        await self._inner.rollback(model)

    async def withdraw(self, model: str, version: str, reason: str) -> None:
        await self._inner.withdraw(model, version, reason)


def start_replica(
    stack: _services.Stack, name: str, source: str, tracking_uri: str, port: int | None = None
) -> str:
    port = port or _services.free_port()
    config = stack.workdir / f"{name}.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model": MODEL,
                "port": port,
                "source": source,
                "mlflow": {"tracking_uri": tracking_uri},
            }
        )
    )
    argv = [sys.executable, "-m", "llmops.cli", "serve", "--config", str(config), "--standalone"]
    env = {**_services.CLEAN_ENV, "HF_HUB_OFFLINE": "1"}
    service = stack.start(name, argv, env=env)
    url = f"http://127.0.0.1:{port}"
    service.wait_until(lambda: _services.http_get(f"{url}/healthz") == 200, timeout=600)
    return f"{url}/v1"


def ask(gateway: str, key: str, text: str) -> tuple[int, Any, dict[str, str]]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": text}], "max_tokens": 40,
            "temperature": 0}  # fmt: skip
    request = urllib.request.Request(
        f"{gateway}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status, json.loads(response.read()), dict(response.headers)


async def until(done: Callable[[], Awaitable[bool]], what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not await done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} after {timeout:.0f} s")
        await asyncio.sleep(0.2)


def write_suite(workdir: Path, held_out: Sequence[dict[str, str]]) -> Path:
    data = workdir / "held-out.jsonl"
    data.write_text("".join(json.dumps(line) + "\n" for line in held_out))
    suite = {
        "name": "heldout",
        "datasets": [data.name],
        "generation": {"max_tokens": 40},
        "scorers": [{"kind": "preference"}, {"kind": "rouge_l"}],
        "pairwise": {"by": "preference"},
    }
    path = workdir / "heldout.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


def start_stack(
    workdir: Path, stack: _services.Stack
) -> tuple[str, str, str, RoutesFile, dict[str, Any], str]:
    """MLflow, the champion replica and the gateway: the tracking URI, the champion's and
    the gateway's URLs, the routes file, the gateway's settings and a key."""
    print("starting MLflow, the champion replica and the gateway ...", flush=True)
    mlflow_port = _services.free_port()
    argv = local_mlflow.server_argv(
        f"sqlite:///{workdir / 'mlflow.db'}", workdir / "art", port=mlflow_port
    )
    mlflow = stack.start("mlflow", argv, env={**_services.CLEAN_ENV, **local_mlflow.SERVER_ENV})
    tracking = f"http://127.0.0.1:{mlflow_port}"
    mlflow.wait_until(lambda: _services.http_get(f"{tracking}/health") == 200, timeout=120)
    champion = start_replica(stack, "champion", "bundled:smollm2", tracking)
    routes = RoutesFile(workdir / "routes.yaml")
    routes.set_versions(MODEL, [VersionShare("champion", 1.0, (champion,))])
    config = _services.write_gateway_config_for(workdir, models={MODEL: champion})
    settings = yaml.safe_load(config.read_text())
    settings.update(routes_file=str(routes.path), routes_poll_seconds=0.5, expose_upstreams=True,
                    request_log={"flush_seconds": 0.2})  # fmt: skip
    config.write_text(yaml.safe_dump(settings))
    key = _services.create_key(config, "support", "--rpm", "100000", "--tpm", "100000000")
    gateway = f"{_services.start_gateway(stack, config)}/v1"
    return tracking, champion, gateway, routes, settings, key


async def run(args: argparse.Namespace, workdir: Path, stack: _services.Stack) -> None:
    stages = Stages()
    tracking, champion, gateway, routes, settings, key = start_stack(workdir, stack)
    train, held = split_cases()
    loop_started = time.perf_counter()
    print(f"\n== The loop ({args.feedback} feedback items, DPO {args.steps} steps)", flush=True)

    async def collect() -> None:
        for i in range(args.feedback):
            text, correction = train[i % len(train)]
            _, _, headers = await asyncio.to_thread(ask, gateway, key, text)
            status, body = await asyncio.to_thread(
                _services.post_json, f"{gateway}/feedback",
                {"request_id": headers["x-llmops-request-id"], "score": "down", "correction": correction},
                token=key,
            )  # fmt: skip
            if status != 201:
                raise RuntimeError(f"feedback refused: {status} {body}")

    await stages.timed("feedback through the gateway", collect())
    # Held-out pairs: the house answer chosen over the champion's own answer.
    held_out = []
    for text, answer in held:
        _, body, _ = await asyncio.to_thread(ask, gateway, key, text)
        held_out.append(
            {"prompt": text, "chosen": answer, "rejected": body["choices"][0]["message"]["content"]}
        )
    suite = write_suite(workdir, held_out)
    # The challenger's replica follows @challenger, so it starts once the alias exists, on
    # a port chosen now: the routes name it from the start (nothing is sent before it is up).
    challenger_port = _services.free_port()
    challenger = f"http://127.0.0.1:{challenger_port}/v1"
    monitor = MonitorSettings.model_validate(
        {
            "database_url": settings["database_url"],
            "tracking_uri": tracking,
            "routes_file": str(routes.path),
            "state_dir": str(workdir / "monitor"),
            "deployments": [
                {
                    "name": MODEL,
                    "registered_model": REGISTERED,
                    "champion_upstreams": [champion],
                    "embeddings": False,
                    "feedback": {
                        "min_new": args.feedback, "min_pairs": 8, "base": "bundled:smollm2",
                        "options": {"max-steps": args.steps, "batch-size": 4, "max-seq-len": 128,
                                    "learning-rate": args.learning_rate, "output": str(workdir / "dpo")},
                        "suite": str(suite), "against": "bundled:smollm2", "gates": ["reward_margin>0"],
                        "shadow_upstreams": [challenger],
                        "shadow_seconds": 1, "min_shadow_requests": args.shadow_requests,
                    },
                    "canary": {"weight": 0.5, "upstreams": [challenger]},
                }
            ],
        }
    )  # fmt: skip
    runner = CliRunner(tracking_uri=tracking, log_dir=workdir / "monitor" / "logs",
                       env={**_services.CLEAN_ENV, "HF_HUB_OFFLINE": "1"})  # fmt: skip
    reader = RequestLogReader(engine_for(settings["database_url"]))
    deployment = monitor.deployments[0]
    registry = TimedRegistry(CliRegistry(runner), stages)
    retrain = RetrainLoop(deployment, executor=TimedExecutor(LocalExecutor(runner), stages),
                          registry=registry, reader=reader, work_dir=workdir / "work", routes=routes)  # fmt: skip
    loop = FeedbackLoop(deployment, retrain=retrain, executor=TimedExecutor(LocalExecutor(runner), stages),
                        registry=registry, reader=reader, engine=reader.engine,
                        work_dir=workdir / "work", routes=routes)  # fmt: skip
    try:
        step = await stages.timed(
            "pairs, DPO, suite, gates (one tick)", loop.tick(datetime.now(UTC))
        )
        print(f"  tick: {step}", flush=True)
        if step.action != "shadow":
            raise RuntimeError(f"the loop stopped: {step}")
        source = f"models:/{REGISTERED}@challenger"
        await stages.timed(
            "challenger replica up (follows @challenger)",
            asyncio.to_thread(
                start_replica, stack, "challenger", source, tracking, challenger_port
            ),
        )

        async def mirrored() -> bool:
            await asyncio.to_thread(ask, gateway, key, held[0][0])
            return bool(len(await reader.window(MODEL, EVER, shadow=True)) >= args.shadow_requests)

        await stages.timed(
            "shadow period (mirrored requests)", until(mirrored, "mirrored requests")
        )
        step = await stages.timed("shadow judged, canary on", loop.tick(datetime.now(UTC)))
        print(f"  tick: {step}", flush=True)
        if step.action != "canary":
            raise RuntimeError(f"the loop stopped: {step}")

        async def canary_serves() -> bool:
            _, _, headers = await asyncio.to_thread(ask, gateway, key, held[1][0])
            return bool(headers.get("x-llmops-upstream") == challenger)

        await stages.timed("canary serving users", until(canary_serves, "canary answers"))
    finally:
        await reader.close()
    report(time.perf_counter() - loop_started, tracking, step.version or "", len(held_out))


def report(total: float, tracking: str, version: str, held_out: int) -> None:
    tags = MlflowClient(tracking).get_model_version(REGISTERED, version).tags
    print(f"\n== Whole loop: {total:.0f} s (target < {TARGET_SECONDS} s): "
          f"{'met' if total < TARGET_SECONDS else 'NOT met'}")  # fmt: skip
    print(f"== Challenger {version} against the champion on {held_out} held-out pairs:")
    for name in ("win_rate", "win_rate.ci_low", "win_rate.ci_high", "p_value", "wins", "losses",
                 "ties", "preference", "rouge_l"):  # fmt: skip
        print(f"  {name:18} {float(tags.get(f'eval.heldout.{name}', 'nan')):.4g}")
    for name in ("reward_margin", "reward_accuracy", "pairs_count"):
        print(f"  {name:18} {tags.get(name)}")
    win = float(tags.get("eval.heldout.win_rate", "nan"))
    print(f"  win rate above 0.5: {'met' if win > 0.5 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feedback", type=int, default=48)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--shadow-requests", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, _services.Stack(Path(tmp)) as stack:
        try:
            asyncio.run(run(args, Path(tmp), stack))
        except Exception:
            for service in stack.services:
                print(f"--- {service.name}\n{service.tail()}")
            raise


if __name__ == "__main__":
    main()
