"""The second loop end to end on the laptop stack's pieces: users' feedback through the
gateway, preference pairs, a real DPO fine-tune of the bundled model (a few steps, in a
child process), the gates, a shadow period with mirrored traffic, then the canary."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmops.monitoring import feedback
from llmops.monitoring.executor import CliRegistry, CliRunner, LocalExecutor
from llmops.monitoring.feedback_loop import FeedbackLoop
from llmops.monitoring.reader import RequestLogReader, Window, engine_for
from llmops.monitoring.retrain import RetrainLoop
from llmops.monitoring.routes import RoutesFile
from llmops.monitoring.settings import MonitorSettings
from tests.e2e.conftest import MODEL, Stack
from tests.support.http import call, chat

pytestmark = pytest.mark.timeout(900)

REGISTERED = "feedback-support"
CORRECTION = "Please write to our help desk; we answer within a day."
QUESTION = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}


def settings_for_loop(stack: Stack, mlflow_url: str, model_cache: Path) -> MonitorSettings:
    return MonitorSettings.model_validate(
        {
            "database_url": stack.database_url,
            "tracking_uri": mlflow_url,
            "routes_file": str(stack.routes),
            "state_dir": str(stack.workdir / "monitor"),
            "deployments": [
                {
                    "name": MODEL,
                    "registered_model": REGISTERED,
                    "champion_upstreams": [stack.champion.url],
                    "embeddings": False,
                    "feedback": {
                        "min_new": 10,
                        "min_pairs": 8,
                        "base": "bundled:smollm2",
                        "options": {
                            "cache-dir": str(model_cache),
                            "output": str(stack.workdir / "dpo"),
                            "max-steps": 4,
                            "batch-size": 4,
                            "max-seq-len": 96,
                            "learning-rate": 3e-3,
                            "threads": 1,
                        },
                        "gates": ["reward_margin>0"],
                        "shadow_upstreams": [stack.challenger.url],
                        "shadow_seconds": 0.001,
                        "min_shadow_requests": 3,
                    },
                    "canary": {"weight": 0.5, "upstreams": [stack.challenger.url]},
                }
            ],
        }
    )


def give_feedback(stack: Stack, n: int) -> None:
    """``n`` questions through the gateway, each answered, then corrected by its user."""
    for i in range(n):
        body = {"model": MODEL, "messages": [{"role": "user", "content": f"where is order {i}?"}]}
        reply = chat(stack.gateway.url, stack.key, body)
        assert reply.status == 200
        given = call(
            "POST",
            f"{stack.gateway.v1}/feedback",
            body={
                "request_id": reply.headers["x-llmops-request-id"],
                "score": "down",
                "correction": CORRECTION,
            },
            headers={"authorization": f"Bearer {stack.key}"},
        )
        assert given.status == 201, given.body


async def until(done: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + 60
    while not await done():
        assert time.monotonic() < deadline, f"no {what}"
        await asyncio.sleep(0.05)


def route_of(stack: Stack) -> dict[str, Any]:
    models = yaml.safe_load(stack.routes.read_text())["models"]
    found: dict[str, Any] = next(m for m in models if m["name"] == MODEL)
    return found


def test_feedback_retrains_with_dpo_then_shadows_then_canaries(
    stack: Stack, mlflow_url: str, model_cache: Path
) -> None:
    settings = settings_for_loop(stack, mlflow_url, model_cache)
    deployment = settings.deployments[0]
    runner = CliRunner(tracking_uri=mlflow_url, log_dir=settings.state_dir / "logs")
    routes = RoutesFile(stack.routes)
    ever = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))

    async def scenario() -> None:
        reader = RequestLogReader(engine_for(stack.database_url))
        retrain = RetrainLoop(
            deployment,
            executor=LocalExecutor(runner),
            registry=CliRegistry(runner),
            reader=reader,
            work_dir=settings.state_dir / "work",
            routes=routes,
        )

        def feedback_loop() -> FeedbackLoop:
            return FeedbackLoop(
                deployment,
                retrain=retrain,
                executor=LocalExecutor(runner),
                registry=CliRegistry(runner),
                reader=reader,
                engine=reader.engine,
                work_dir=settings.state_dir / "work",
                routes=routes,
            )

        loop = feedback_loop()

        async def counted(n: int) -> bool:
            return await feedback.count_since(reader.engine, MODEL, None) >= n

        try:
            await asyncio.to_thread(give_feedback, stack, 4)
            await until(lambda: counted(4), "4 feedback items counted")
            assert (await loop.tick(datetime.now(UTC))).action == "idle"  # 4 of 10
            await asyncio.to_thread(give_feedback, stack, 8)
            await until(lambda: counted(12), "12 feedback items counted")
            step = await loop.tick(datetime.now(UTC))
            assert step.action == "shadow", step
            shadow = route_of(stack)["shadow"]
            assert (shadow["version"], shadow["upstreams"]) == (
                step.version,
                [stack.challenger.url],
            )

            # The gateway reloads the routes and mirrors requests to the challenger's
            # replicas; users keep getting the champion's answers.
            async def mirrored() -> bool:
                reply = await asyncio.to_thread(chat, stack.gateway.url, stack.key, QUESTION)
                assert reply.status == 200
                assert reply.headers["x-llmops-model-version"] == "champion"
                return len(await reader.window(MODEL, ever, shadow=True)) >= 3

            await until(mirrored, "mirrored requests")
            # A restarted monitor finds the shadow it was judging and its last retrain.
            restarted = feedback_loop()
            assert restarted.shadowing == loop.shadowing
            assert restarted.last_retrain == loop.last_retrain is not None
            loop = restarted
            step = await loop.tick(datetime.now(UTC))
            assert step.action == "canary", step
        finally:
            await reader.close()
        route = route_of(stack)
        assert "shadow" not in route
        weights = {v["version"]: v["weight"] for v in route["versions"]}
        assert weights == {"champion": 0.5, step.version: 0.5}

    asyncio.run(scenario())
