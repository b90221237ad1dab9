"""The loop after drift: fine-tune, gate, canary, then promote or roll back.

:meth:`RetrainLoop.start` writes the drifted window (already redacted in the log)
beside the template's original training set, runs the fine-tune through the
executor, asks the registry to make the new version challenger through the gates,
and gives it the canary's share in the routes file. :meth:`RetrainLoop.watch`
compares the canary's live figures with the champion's (request log by version,
plus the quality probe) and either takes the canary out of the routes (worse) or
promotes it to champion after the soak.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from llmops.monitoring import canary, dataset
from llmops.monitoring.canary import CanaryDecision, CanaryVerdict, LiveFigures
from llmops.monitoring.errors import MonitoringError, RetrainFailed
from llmops.monitoring.executor import FineTuneExecutor, FineTuneSpec, Registry
from llmops.monitoring.reader import RequestLogReader, VersionTraffic, Window
from llmops.monitoring.routes import RoutesFile, VersionShare
from llmops.monitoring.settings import DeploymentSettings
from llmops.requestlog.table import RequestRecord

log = logging.getLogger("llmops.monitoring.retrain")

Probe = Callable[[Sequence[str]], Awaitable[float | None]]
"""Scores a version by its replicas' answers to the probe prompts (``None``: no probe)."""


@dataclass(frozen=True, slots=True)
class Canary:
    version: str
    started: datetime


@dataclass(frozen=True, slots=True)
class RetrainOutcome:
    version: str
    promoted: bool
    """Whether the gates let it become challenger."""
    refused_by: tuple[str, ...]
    canary: bool
    data_rows: int


class RetrainLoop:
    def __init__(
        self,
        deployment: DeploymentSettings,
        *,
        executor: FineTuneExecutor,
        registry: Registry,
        reader: RequestLogReader,
        work_dir: Path,
        routes: RoutesFile | None = None,
        probe: Probe | None = None,
    ) -> None:
        self._d = deployment
        self._executor = executor
        self._registry = registry
        self._reader = reader
        self._work_dir = work_dir
        self._routes = routes
        self._probe = probe
        self.canary: Canary | None = None

    async def start(self, window: Sequence[RequestRecord], now: datetime) -> RetrainOutcome:
        template = self._d.retrain
        if template is None:
            raise RetrainFailed(f"deployment {self._d.name!r} has no retrain template")
        data = self._work_dir / f"window-{self._d.name}-{now:%Y%m%dT%H%M%S}.jsonl"
        rows = dataset.write_window(window, data, template.max_window_rows)
        if rows == 0:
            raise RetrainFailed("the drifted window holds no sampled request texts to train on")
        options = {k: str(v) for k, v in template.options.items()}
        if template.eval is not None:
            options["eval"] = str(template.eval)
        spec = FineTuneSpec(
            base=template.base,
            data=(*template.data, data),
            register=self._d.registry_name,
            options=options,
        )
        log.info("drift on %s: fine-tuning on %d logged requests", self._d.name, rows)
        tuned = await self._executor.finetune(spec)
        if self._d.canary.suite is not None:
            refused = await self._registry.evaluate(
                tuned.model, tuned.version, self._d.canary.suite
            )
            if refused:
                log.warning(
                    "version %s refused by its suite: %s", tuned.version, ", ".join(refused)
                )
                return RetrainOutcome(tuned.version, False, refused, False, rows)
        result = await self._registry.promote(
            tuned.model,
            tuned.version,
            "challenger",
            self._d.canary.gates,
            reason=f"retrained on drift of {self._d.name} (run {tuned.run_id})",
        )
        if not result.promoted:
            log.warning("version %s refused by %s", tuned.version, ", ".join(result.refused_by))
            return RetrainOutcome(tuned.version, False, result.refused_by, False, rows)
        with_canary = self.begin_canary(tuned.version, now)
        return RetrainOutcome(tuned.version, True, (), with_canary, rows)

    def begin_canary(self, version: str, now: datetime) -> bool:
        """Give ``version`` (the challenger) the canary's share; whether there is a canary
        (a routes file and replicas for it)."""
        if self._routes is None or not self._d.canary.upstreams:
            return False
        self._split(version)
        self.canary = Canary(version, now)
        return True

    def _split(self, version: str) -> None:
        assert self._routes is not None
        c = self._d.canary
        self._routes.set_versions(
            self._d.gateway_model,
            [
                VersionShare(c.champion_version, 1 - c.weight, tuple(self._d.champion_upstreams)),
                VersionShare(version, c.weight, tuple(c.upstreams)),
            ],
        )

    def _champion_only(self) -> None:
        if self._routes is not None:
            self._routes.set_versions(
                self._d.gateway_model,
                [
                    VersionShare(
                        self._d.canary.champion_version, 1.0, tuple(self._d.champion_upstreams)
                    )
                ],
            )

    async def figures(self, traffic: VersionTraffic, upstreams: Sequence[str]) -> LiveFigures:
        """A version's figures: its logged traffic and the probe of its replicas."""
        quality = await self._probe(upstreams) if self._probe is not None else None
        return canary.live_figures(traffic.rows, traffic.failed, quality)

    async def watch(self, now: datetime) -> CanaryDecision | None:
        """Judge the canary once; ``None`` when there is none."""
        if self.canary is None:
            return None
        c = self._d.canary
        traffic = await self._reader.by_version(
            self._d.gateway_model,
            Window(self.canary.started, now),
            (c.champion_version, self.canary.version),
        )
        champion = await self.figures(traffic[c.champion_version], self._d.champion_upstreams)
        challenger = await self.figures(traffic[self.canary.version], c.upstreams)
        decision = canary.judge(champion, challenger, now - self.canary.started, c.rules())
        if decision.verdict is CanaryVerdict.ROLLBACK:
            log.warning(
                "canary %s rolled back: %s", self.canary.version, "; ".join(decision.reasons)
            )
            self._champion_only()
            version, self.canary = self.canary.version, None
            # The version keeps no alias that replicas following @challenger would serve.
            # The traffic is back on the champion already: a registry that cannot be
            # reached now leaves the alias, not the rollback, undone.
            try:
                await self._registry.withdraw(
                    self._d.registry_name, version, decision.rollback_reason
                )
            except MonitoringError as e:
                log.warning("canary %s rolled back; its challenger alias stays: %s", version, e)
        elif decision.verdict is CanaryVerdict.PROMOTE:
            await self._registry.promote(
                self._d.registry_name,
                self.canary.version,
                "champion",
                (),
                reason=f"canary of {self._d.name} no worse than the champion after the soak",
            )
            # The champion's replicas follow the champion alias: they now serve this version.
            self._champion_only()
            self.canary = None
        return decision
