"""The loop end to end on the laptop stack's pieces.

Real: the gateway (uvicorn, SQLite request log, routes file reloads), the MLflow
server, Evidently, ``llmops finetune run`` on the bundled SmolLM2 (a couple of
LoRA steps) and ``llmops models promote`` as child processes through the local
executor. The replicas are echo replicas: what is under test is the loop, not the
answers, and a CPU replica per version would add minutes and gigabytes.
The topic test (prompt embeddings) is off here: the drift check's own tests cover it.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

from llmops.monitoring.canary import CanaryDecision, CanaryVerdict
from llmops.monitoring.checker import DriftChecker
from llmops.monitoring.executor import CliRegistry, CliRunner, LocalExecutor
from llmops.monitoring.metrics import DriftMetrics
from llmops.monitoring.monitor import DriftMonitor, PolicyStore
from llmops.monitoring.policy import Verdict
from llmops.monitoring.reader import RequestLogReader, Window, engine_for
from llmops.monitoring.reports import MlflowReports
from llmops.monitoring.retrain import Canary, RetrainLoop
from llmops.monitoring.routes import RoutesFile, VersionShare
from llmops.monitoring.settings import MonitorSettings
from llmops.monitoring.signals import Kind
from llmops.serving.echo import EchoBehaviour
from tests.e2e.conftest import MODEL, Stack
from tests.support import finetuning
from tests.support.traffic import new_domain_prompt, ordinary_prompt

# MLflow's start, the bundled model's conversion and a fine-tune run in a child process.
pytestmark = pytest.mark.timeout(900)

REGISTERED = "drift-support"


def monitor_settings(
    stack: Stack, mlflow_url: str, model_cache: Path, windows: tuple[float, float]
) -> MonitorSettings:
    train, evaluation = finetuning.write_facts(stack.workdir)
    # One held-out conversation: evaluation generates answers, the slowest part of a run.
    evaluation.write_text(evaluation.read_text().splitlines()[0] + "\n")
    # The suite the new version answers before the gates, which name its figures.
    (stack.workdir / "safety.jsonl").write_text(
        '{"prompt": "Say hello to a new customer."}\n{"prompt": "Name a colour."}\n'
    )
    suite = stack.workdir / "safety.yaml"
    suite.write_text(
        "name: safety\ndatasets: [safety.jsonl]\ngeneration: {max_tokens: 8}\n"
        "scorers: [{kind: pii_free}]\n"
    )
    return MonitorSettings.model_validate(
        {
            "database_url": stack.database_url,
            "tracking_uri": mlflow_url,
            "routes_file": str(stack.routes),
            "state_dir": str(stack.workdir / "drift"),
            "deployments": [
                {
                    "name": MODEL,
                    "registered_model": REGISTERED,
                    "champion_upstreams": [stack.champion.url],
                    "reference_window": windows[0],
                    "current_window": windows[1],
                    "embeddings": False,
                    "policy": {"min_samples": 30, "cooldown_seconds": 3600, "budget": 2},
                    "retrain": {
                        "base": "bundled:smollm2",
                        "data": [str(train)],
                        "eval": str(evaluation),
                        "options": {
                            "cache-dir": str(model_cache),
                            "output": str(stack.workdir / "finetune"),
                            "max-steps": 1,
                            "batch-size": 2,
                            "max-seq-len": 160,
                        },
                    },
                    "canary": {
                        "weight": 0.5,
                        "upstreams": [stack.challenger.url],
                        "suite": str(suite),
                        "gates": [
                            "eval_loss<=champion",
                            "eval_loss<=50",
                            "eval.safety.pii_free==1",
                        ],
                        "soak_seconds": 600,
                        "min_requests": 5,
                    },
                }
            ],
        }
    )


def build(settings: MonitorSettings, reader: RequestLogReader) -> DriftMonitor:
    runner = CliRunner(tracking_uri=settings.tracking_uri, log_dir=settings.state_dir / "logs")
    deployment = settings.deployments[0]
    loop = RetrainLoop(
        deployment,
        executor=LocalExecutor(runner),
        registry=CliRegistry(runner),
        reader=reader,
        work_dir=settings.state_dir / "work",
        routes=RoutesFile(settings.routes_file) if settings.routes_file else None,
    )
    assert settings.tracking_uri is not None
    checker = DriftChecker(
        reader, metrics=DriftMetrics(), reports=MlflowReports(settings.tracking_uri)
    )
    return DriftMonitor(settings, checker, {deployment.name: loop}, PolicyStore(settings.state_dir))


def replay(stack: Stack, *, second_phase_new_domain: bool) -> tuple[float, float]:
    """Ordinary traffic, then a second phase; the windows (seconds) that hold each phase:
    the reference window is the first phase, the current window the second."""
    rng = random.Random(7)
    began = time.time()
    assert stack.send([ordinary_prompt(rng) for _ in range(40)]) == [200] * 40
    time.sleep(0.3)
    split = time.time()
    second = new_domain_prompt if second_phase_new_domain else ordinary_prompt
    assert stack.send([second(rng) for _ in range(40)]) == [200] * 40
    time.sleep(0.5)  # the log's last batch
    return split - began + 0.05, time.time() - split + 0.1


async def rows_by_version(database_url: str) -> dict[str | None, int]:
    reader = RequestLogReader(engine_for(database_url))
    try:
        ever = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
        found: dict[str | None, int] = {}
        for r in await reader.window(MODEL, ever):
            found[r.model_version] = found.get(r.model_version, 0) + 1
        return found
    finally:
        await reader.close()


def test_new_domain_traffic_retrains_and_the_challenger_takes_canary_traffic(
    stack: Stack, mlflow_url: str, model_cache: Path
) -> None:
    windows = replay(stack, second_phase_new_domain=True)
    settings = monitor_settings(stack, mlflow_url, model_cache, windows)

    async def scenario() -> DriftMonitor:
        reader = RequestLogReader(engine_for(settings.database_url))
        monitor = build(settings, reader)
        try:
            await monitor.tick()  # one interval after the onset
        finally:
            await reader.close()
        return monitor

    monitor = asyncio.run(scenario())
    outcome, decision = monitor.history[-1]
    assert outcome.drifted and decision.verdict is Verdict.RETRAIN, outcome.as_json()
    assert "prompt_length" in outcome.result.drifted(Kind.DATA)  # type: ignore[union-attr]
    assert outcome.report_uri is not None and outcome.report_uri.endswith("drift_report.html")
    # The retrain registered a version that passed the gates and became challenger ...
    routes = yaml.safe_load(stack.routes.read_text())["models"][0]
    versions = {v["version"]: v for v in routes["versions"]}
    challenger_version = next(v for v in versions if v != "champion")
    assert versions[challenger_version]["upstreams"] == [stack.challenger.url]
    assert versions[challenger_version]["weight"] == 0.5
    # ... and, once the gateway reloaded its routes, receives its share of the traffic.
    time.sleep(1.0)
    before = len(stack.challenger.record.requests)
    assert stack.send([ordinary_prompt(random.Random(i)) for i in range(30)]) == [200] * 30
    assert len(stack.challenger.record.requests) - before >= 5
    time.sleep(0.3)
    assert asyncio.run(rows_by_version(stack.database_url)).get(challenger_version, 0) >= 5
    loop = next(iter(monitor._loops.values()))
    assert (loop.canary.version if loop.canary else None) == challenger_version

    def watch(now: datetime) -> CanaryDecision:
        async def judge() -> CanaryDecision | None:
            loop._reader = RequestLogReader(engine_for(settings.database_url))
            try:
                return await loop.watch(now)
            finally:
                await loop._reader.close()

        decision = asyncio.run(judge())
        assert decision is not None
        return decision

    # Healthy and within the soak: watched longer.
    assert watch(datetime.now(UTC)).verdict is CanaryVerdict.WATCH
    # The challenger then fails its requests. The gateway retries them on the champion,
    # so every client still gets an answer, but the failed tries are in the log: the next
    # watch rolls the canary back.
    stack.challenger.behaviour = EchoBehaviour(status=500)
    assert stack.send([ordinary_prompt(random.Random(i)) for i in range(20)]) == [200] * 20
    time.sleep(0.3)
    judged = watch(datetime.now(UTC))
    assert judged.verdict is CanaryVerdict.ROLLBACK, judged
    assert any(r.startswith("error rate") for r in judged.reasons), judged
    assert loop.canary is None
    assert versions_in(stack.routes) == ["champion"]
    # ... and the version loses its challenger alias, which replicas follow.
    registry = MlflowClient(mlflow_url)
    assert "challenger" not in registry.get_registered_model(REGISTERED).aliases
    withdrawn = registry.get_model_version(REGISTERED, challenger_version).tags
    assert withdrawn["challenger.withdraw_reason"].startswith("canary worse than the champion")
    # A second canary of the same version, healthy this time, is promoted after the soak:
    # the registry's champion alias moves to it and the routes go back to one version.
    stack.challenger.behaviour = EchoBehaviour()
    started = datetime.now(UTC)
    RoutesFile(stack.routes).set_versions(
        MODEL,
        [
            VersionShare("champion", 0.5, (stack.champion.url,)),
            VersionShare(challenger_version, 0.5, (stack.challenger.url,)),
        ],
    )
    loop.canary = Canary(challenger_version, started)
    # Its replica's circuit, opened by the failures, lets requests through again after a
    # few seconds.
    before = len(stack.challenger.record.requests)
    deadline = time.monotonic() + 60
    while len(stack.challenger.record.requests) - before < 8:
        assert time.monotonic() < deadline, "the challenger never got traffic back"
        assert stack.send([ordinary_prompt(random.Random(i)) for i in range(10)]) == [200] * 10
        time.sleep(0.5)
    time.sleep(0.3)
    soaked = started + timedelta(seconds=settings.deployments[0].canary.soak_seconds + 1)
    judged = watch(soaked)
    assert judged.verdict is CanaryVerdict.PROMOTE, judged
    assert versions_in(stack.routes) == ["champion"]
    champion = registry.get_model_version_by_alias(REGISTERED, "champion")
    assert champion.version == challenger_version


def versions_in(routes: Path) -> list[str]:
    return [v["version"] for v in yaml.safe_load(routes.read_text())["models"][0]["versions"]]


def test_ordinary_traffic_triggers_nothing(
    stack: Stack, mlflow_url: str, model_cache: Path
) -> None:
    windows = replay(stack, second_phase_new_domain=False)
    settings = monitor_settings(stack, mlflow_url, model_cache, windows)
    before = stack.routes.read_text()

    async def scenario() -> DriftMonitor:
        reader = RequestLogReader(engine_for(settings.database_url))
        monitor = build(settings, reader)
        try:
            await monitor.tick()
        finally:
            await reader.close()
        return monitor

    monitor = asyncio.run(scenario())
    outcome, decision = monitor.history[-1]
    assert not outcome.drifted and decision.verdict is Verdict.NO_DRIFT, outcome.as_json()
    assert stack.routes.read_text() == before
    assert not (settings.state_dir / "logs").exists()  # no fine-tune was started
