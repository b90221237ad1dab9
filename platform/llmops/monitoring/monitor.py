"""The periodic drift monitor: check every deployment each interval, apply the policy,
run the retraining loop and watch its canary."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from llmops.files import write_atomically
from llmops.monitoring import policy
from llmops.monitoring.checker import CheckOutcome, DriftChecker
from llmops.monitoring.errors import MonitoringError
from llmops.monitoring.feedback_loop import FeedbackLoop
from llmops.monitoring.policy import Decision, PolicyState
from llmops.monitoring.retrain import RetrainLoop
from llmops.monitoring.settings import DeploymentSettings, MonitorSettings
from llmops.monitoring.signals import Kind

log = logging.getLogger("llmops.monitoring")


class PolicyStore:
    """Each deployment's policy state in a JSON file, so restarts keep episodes and budget."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory

    def _path(self, deployment: str) -> Path:
        return self._dir / f"{deployment}.policy.json"

    def load(self, deployment: str) -> PolicyState:
        path = self._path(deployment)
        if not path.exists():
            return PolicyState()
        data = json.loads(path.read_text())
        return PolicyState(
            in_episode=bool(data["in_episode"]),
            episode_retrained=bool(data["episode_retrained"]),
            retrains=tuple(datetime.fromisoformat(t) for t in data["retrains"]),
        )

    def save(self, deployment: str, state: PolicyState) -> None:
        data = {**asdict(state), "retrains": [t.isoformat() for t in state.retrains]}
        write_atomically(self._path(deployment), json.dumps(data).encode())


class DriftMonitor:
    def __init__(
        self,
        settings: MonitorSettings,
        checker: DriftChecker,
        loops: dict[str, RetrainLoop],
        store: PolicyStore,
        feedback: dict[str, FeedbackLoop] | None = None,
    ) -> None:
        self._settings = settings
        self._checker = checker
        self._loops = loops
        self._store = store
        self._feedback = feedback or {}
        self.history: list[tuple[CheckOutcome, Decision]] = []

    async def tick(self, now: datetime | None = None) -> None:
        """One round: watch canaries, then check each deployment and act on the policy."""
        now = now or datetime.now(UTC)
        for deployment in self._settings.deployments:
            try:
                await self._tick_one(deployment, now)
            except MonitoringError as e:
                log.error("drift monitor, %s: %s", deployment.name, e)  # noqa: TRY400 (known error, no trace)

    async def _tick_one(self, deployment: DeploymentSettings, now: datetime) -> None:
        loop = self._loops.get(deployment.name)
        if loop is not None and loop.canary is not None:
            judged = await loop.watch(now)
            if judged is not None:
                log.info(
                    "canary %s: %s (%s)", deployment.name, judged.verdict, "; ".join(judged.reasons)
                )
        second = self._feedback.get(deployment.name)
        if second is not None:
            step = await second.tick(now)
            log.info("feedback loop %s: %s %s", deployment.name, step.action, step.detail)
        outcome = await self._checker.check(deployment, now)
        state = self._store.load(deployment.name)
        decision = policy.decide(outcome.figures(), state, deployment.policy.policy(), now)
        self._store.save(deployment.name, decision.state)
        self.history.append((outcome, decision))
        log.info(
            "drift check %s: %s (data signals drifted: %s; %d/%d requests)",
            deployment.name,
            decision.verdict,
            ", ".join(outcome.result.drifted(Kind.DATA)) or "none" if outcome.result else "-",
            outcome.reference_rows,
            outcome.current_rows,
        )
        if outcome.result and outcome.result.operational_drifted:
            log.warning(
                "operational drift of %s (an alert, not a retrain): %s",
                deployment.name,
                "; ".join(
                    f"{s.name} {s.summary}"
                    for s in outcome.result.of(Kind.OPERATIONAL)
                    if s.drifted
                ),
            )
        if decision.retrain and loop is not None:
            result = await loop.start(outcome.current_records, now)
            log.info("retrain of %s: %s", deployment.name, result)

    async def run(self, stop: asyncio.Event) -> None:
        """Tick every interval until ``stop`` is set."""
        while not stop.is_set():
            started = asyncio.get_running_loop().time()
            await self.tick()
            elapsed = asyncio.get_running_loop().time() - started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    stop.wait(), max(0.0, self._settings.interval_seconds - elapsed)
                )
