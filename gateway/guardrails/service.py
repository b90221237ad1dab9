"""The guardrails as the request path meets them: the input check, the answer check and a
stream's guard for a team; the policies, re-read from their file while the gateway runs;
and what each find leaves behind (a count per team, policy and action, and, for blocks
and masks, an audit entry that names the policy and kinds, never the text)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pydantic
import yaml
from prometheus_client import CollectorRegistry, Counter

from gateway.guardrails.checks import Finding
from gateway.guardrails.compiled import Policies
from gateway.guardrails.inputs import InjectionScorer, InputGuard
from gateway.guardrails.outputs import StreamGuard, answer_texts, blocked_error, check_answer
from gateway.guardrails.policy import Action, GuardrailSettings, Policy
from gateway.keys.store import KeyStore
from gateway.openai_schema import ParsedRequest
from gateway.supervision import Supervisor

log = logging.getLogger("llmops.gateway.guardrails")

AUDIT_QUEUE = 10_000
"""Audit entries waiting to be written at most; past it, new ones are dropped (counted)."""


class GuardrailsFileError(Exception):
    """The guardrails file is invalid at start-up (the log says where)."""


class PolicyFile(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    default: Policy = Policy()
    teams: dict[str, Policy] = pydantic.Field(default_factory=dict)


class Guardrails:
    def __init__(
        self,
        settings: GuardrailSettings,
        *,
        scorer: InjectionScorer | None,
        store: KeyStore | None,
        registry: CollectorRegistry | None = None,
        supervisor: Supervisor | None = None,
        workers: int = 2,
    ) -> None:
        self._settings = settings
        self._policies = Policies(settings)
        self._store = store
        self._supervisor = supervisor or Supervisor()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="guardrails")
        self._model_pool = ThreadPoolExecutor(
            settings.detector_threads, thread_name_prefix="guardrails-detector"
        )
        self.input = InputGuard(
            lambda: self._policies,
            scorer,
            on_findings=self.report,
            pool=self._pool,
            model_pool=self._model_pool,
        )
        self._actions = Counter(
            "llmops_guardrail_actions_total",
            "Guardrail finds acted on, by team, policy (input.pii, output.deny.<rule>...) and "
            "action (block, mask, flag).",
            ["team", "policy", "action"],
            registry=registry,
        )
        self._reloads = Counter(
            "llmops_guardrail_reloads_total",
            "Reads of the guardrails file that changed the policies (ok) or were refused.",
            ["result"],
            registry=registry,
        )
        self._audit_dropped = Counter(
            "llmops_guardrail_audit_dropped_total",
            "Guardrail audit entries dropped: the queue was full (the database too slow).",
            registry=registry,
        )
        self._queue: asyncio.Queue[tuple[str, str, dict[str, Any]]] = asyncio.Queue(AUDIT_QUEUE)
        self._digest: str | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # -- the request path ----------------------------------------------------------------

    async def check_input(self, parsed: ParsedRequest, team: str, key_id: str) -> ParsedRequest:
        return await self.input.check(parsed, team, key_id)

    async def check_answer(self, team: str, key_id: str, answer: Any) -> bytes | None:
        """A JSON answer's bytes with its masks (``None``: unchanged), or the block raised.
        ``answer`` (parsed) is changed in place when masked."""
        checks = self._policies.for_team(team).outputs
        if not checks.active:
            return None
        texts = answer_texts(answer) if isinstance(answer, dict) else []
        if checks.cheap(sum(len(holder[key]) for holder, key in texts)):
            found, data = check_answer(checks, answer)
        else:
            loop = asyncio.get_running_loop()
            found, data = await loop.run_in_executor(self._pool, check_answer, checks, answer)
        self.report(team, key_id, tuple(found), direction="output")
        if any(f.action is Action.BLOCK for f in found):
            raise blocked_error(team, found)
        return data

    def stream(self, team: str) -> StreamGuard | None:
        checks = self._policies.for_team(team).outputs
        if not checks.active:
            return None
        return StreamGuard(checks, self._settings.stream_window_chars, self._pool)

    def report(
        self, team: str, key_id: str, findings: tuple[Finding, ...], *, direction: str = "input"
    ) -> None:
        """Count the finds; queue an audit entry for the blocks and the masks."""
        if not findings:
            return
        acted: dict[str, Tally[str]] = {}
        for f in findings:
            policy = f"{direction}.{f.policy}"
            self._actions.labels(team, policy, f.action.value).inc()
            acted.setdefault(f.action.value, Tally())[policy] += 1
        for action in (Action.BLOCK, Action.MASK):
            if action.value not in acted:
                continue
            kinds = sorted({f.kind for f in findings if f.action is action and f.kind})
            details = {"key_id": key_id, "policies": dict(acted[action.value]), "kinds": kinds}
            try:
                self._queue.put_nowait((f"guardrail.{action.value}", team, details))
            except asyncio.QueueFull:
                self._audit_dropped.inc()

    # -- background: the policy file and the audit writer ---------------------------------

    def start(self) -> None:
        if self._store is not None:
            self._tasks.append(self._supervisor.spawn("guardrails audit", self._write_audit))
        if self._settings.file is not None:
            if not self.load():
                # No good version to keep yet: starting without the policies would let
                # through what they hold back. The pod fails; its peers keep serving.
                raise GuardrailsFileError(f"the guardrails file {self._settings.file} is invalid")
            self._tasks.append(self._supervisor.spawn("guardrails file", self._watch))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._flush_audit()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._model_pool.shutdown(wait=False, cancel_futures=True)

    def load(self) -> bool:
        """Read the policy file; apply it if it changed and is valid. True when applied."""
        path = self._settings.file
        assert path is not None
        document = None
        try:
            raw = path.read_bytes() if path.exists() else b""
            digest = hashlib.sha256(raw).hexdigest()
            if digest == self._digest:
                return False
            self._digest = digest
            document = PolicyFile.model_validate(yaml.safe_load(raw) or {})
        except (OSError, yaml.YAMLError, pydantic.ValidationError) as e:
            problem = str(e)
        if document is None:
            self._reloads.labels("error").inc()
            log.error(
                "guardrails file %s refused, keeping the last good policies: %s", path, problem
            )
            return False
        settings = self._settings.model_copy(
            update={"default": document.default, "teams": document.teams}
        )
        self._policies = Policies(settings)
        self._reloads.labels("ok").inc()
        log.info("guardrails loaded from %s: %d team policies", path, len(document.teams))
        return True

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._settings.poll_seconds)
            await asyncio.to_thread(self.load)

    async def _write_audit(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            await self._flush_audit()

    async def _flush_audit(self) -> None:
        entries = []
        while not self._queue.empty():
            entries.append(self._queue.get_nowait())
        if entries and self._store is not None:
            try:
                await self._store.record_many("guardrails", entries)
            except Exception as e:  # noqa: BLE001 (the database may fail in any way)
                log.warning(
                    "guardrails: %d audit entries not written: %s", len(entries), type(e).__name__
                )
