"""The second loop: users' feedback, then a DPO retrain, the gates, a shadow period, the
canary, and promotion or rollback.

:meth:`FeedbackLoop.tick` runs on the monitor's interval. While idle it counts the
feedback given on the deployment's answers since its last retrain; with
``feedback.min_new`` of them (and the cooldown over) it writes preference pairs from
them, fine-tunes with ``--recipe dpo``, answers the suite against the champion, and
asks for the challenger alias behind the gates. The challenger then gets a shadow
(mirrored requests, answers never shown) when there are replicas for it; once the shadow
has ``min_shadow_requests`` mirrored requests and its soak is over, it is judged on
agreement, latency and errors: it passes to the canary (the drift loop's, judged the same
way) or is withdrawn. Without shadow replicas it goes straight to the canary.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from llmops.files import write_atomically
from llmops.monitoring import feedback as pairs_from
from llmops.monitoring import shadow as shadows
from llmops.monitoring.errors import MonitoringError
from llmops.monitoring.executor import FineTuneExecutor, FineTuneSpec, Registry
from llmops.monitoring.reader import RequestLogReader, Window
from llmops.monitoring.retrain import RetrainLoop
from llmops.monitoring.routes import RoutesFile
from llmops.monitoring.settings import DeploymentSettings, FeedbackSettings

log = logging.getLogger("llmops.monitoring.feedback")


@dataclass(frozen=True, slots=True)
class Shadowing:
    version: str
    started: datetime


@dataclass(frozen=True, slots=True)
class FeedbackStep:
    """What one tick did: ``idle``, ``retrained``, ``refused``, ``shadow``, ``canary``,
    ``withdrawn`` or ``waiting``, and why."""

    action: str
    detail: str = ""
    version: str | None = None


class FeedbackLoop:
    def __init__(
        self,
        deployment: DeploymentSettings,
        *,
        retrain: RetrainLoop,
        executor: FineTuneExecutor,
        registry: Registry,
        reader: RequestLogReader,
        engine: AsyncEngine,
        work_dir: Path,
        routes: RoutesFile | None,
    ) -> None:
        assert deployment.feedback is not None
        self._d = deployment
        self._f: FeedbackSettings = deployment.feedback
        self._retrain = retrain
        self._executor = executor
        self._registry = registry
        self._reader = reader
        self._engine = engine
        self._work_dir = work_dir
        self._routes = routes
        self._state = work_dir / "feedback-loop.json"
        self.last_retrain: datetime | None = None
        self.shadowing: Shadowing | None = None
        self._load()

    def _load(self) -> None:
        """The last retrain and the shadow being judged, as a restart found them."""
        try:
            data = json.loads(self._state.read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as e:
            log.warning("feedback loop state %s unreadable, starting afresh: %s", self._state, e)
            return
        if data.get("last_retrain"):
            self.last_retrain = datetime.fromisoformat(data["last_retrain"])
        if data.get("shadowing"):
            shadowing = data["shadowing"]
            started = datetime.fromisoformat(shadowing["started"])
            self.shadowing = Shadowing(shadowing["version"], started)

    def _save(self) -> None:
        data: dict[str, object] = {
            "last_retrain": self.last_retrain.isoformat() if self.last_retrain else None,
            "shadowing": {
                "version": self.shadowing.version,
                "started": self.shadowing.started.isoformat(),
            }
            if self.shadowing
            else None,
        }
        write_atomically(self._state, json.dumps(data).encode())

    async def tick(self, now: datetime) -> FeedbackStep:
        if self.shadowing is not None:
            return await self._judge_shadow(now)
        if self._retrain.canary is not None:
            return FeedbackStep("waiting", "a canary is being judged")
        if self.last_retrain is not None and now - self.last_retrain < timedelta(
            seconds=self._f.cooldown
        ):
            return FeedbackStep("idle", "cooldown")
        model = self._d.gateway_model
        given = await pairs_from.count_since(self._engine, model, self.last_retrain)
        if given < self._f.min_new:
            return FeedbackStep("idle", f"{given} of {self._f.min_new} new feedback items")
        return await self._retrain_on_feedback(now)

    async def _retrain_on_feedback(self, now: datetime) -> FeedbackStep:
        path = self._work_dir / f"pairs-{self._d.name}-{now:%Y%m%dT%H%M%S}.jsonl"
        written = await pairs_from.write_pairs(
            self._engine, path, model=self._d.gateway_model, since=self.last_retrain
        )
        if written.pairs < self._f.min_pairs:
            return FeedbackStep("idle", f"{written.pairs} of {self._f.min_pairs} pairs")
        self.last_retrain = now
        self._save()
        options = {"recipe": "dpo", **{k: str(v) for k, v in self._f.options.items()}}
        if self._f.eval is not None:
            options["eval"] = str(self._f.eval)
        base = self._f.base or f"models:/{self._d.registry_name}@champion"
        log.info("feedback on %s: DPO on %d pairs", self._d.name, written.pairs)
        tuned = await self._executor.finetune(
            FineTuneSpec(base=base, data=(path,), register=self._d.registry_name, options=options)
        )
        refused: tuple[str, ...] = ()
        if self._f.suite is not None:
            refused = await self._registry.evaluate(
                tuned.model, tuned.version, self._f.suite, self._f.against
            )
        if not refused:
            result = await self._registry.promote(
                tuned.model,
                tuned.version,
                "challenger",
                self._f.gates,
                reason=f"DPO on {written.pairs} feedback pairs of {self._d.name}",
            )
            refused = result.refused_by if not result.promoted else ()
        if refused:
            return FeedbackStep("refused", ", ".join(refused), tuned.version)
        if self._routes is not None and self._f.shadow_upstreams:
            self._routes.set_shadow(
                self._d.gateway_model,
                tuned.version,
                tuple(self._f.shadow_upstreams),
                self._f.shadow_share,
            )
            self.shadowing = Shadowing(tuned.version, now)
            self._save()
            return FeedbackStep("shadow", f"{written.pairs} pairs", tuned.version)
        canary = self._retrain.begin_canary(tuned.version, now)
        return FeedbackStep("canary" if canary else "retrained", "", tuned.version)

    async def _judge_shadow(self, now: datetime) -> FeedbackStep:
        assert self.shadowing is not None
        version = self.shadowing.version
        window = Window(self.shadowing.started, now)
        model = self._d.gateway_model
        primary = await self._reader.window(model, window)
        mirrored = await self._reader.window(model, window, shadow=True)
        figures = next(
            (f for f in shadows.compare(primary, mirrored) if f.version == version), None
        )
        verdict, reasons = shadows.judge(figures, self._f.shadow_rules())
        if verdict == "wait" or now - self.shadowing.started < timedelta(
            seconds=self._f.shadow_seconds
        ):
            return FeedbackStep("waiting", "; ".join(reasons), version)
        if self._routes is not None:
            self._routes.clear_shadow(model)
        self.shadowing = None
        self._save()
        if verdict == "fail":
            log.warning("shadow %s of %s failed: %s", version, self._d.name, "; ".join(reasons))
            try:
                await self._registry.withdraw(
                    self._d.registry_name, version, "shadow: " + "; ".join(reasons)
                )
            except MonitoringError as e:
                log.warning("shadow %s failed; its challenger alias stays: %s", version, e)
            return FeedbackStep("withdrawn", "; ".join(reasons), version)
        canary = self._retrain.begin_canary(version, now)
        return FeedbackStep("canary" if canary else "retrained", "; ".join(reasons), version)
