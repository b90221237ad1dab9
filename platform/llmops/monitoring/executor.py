"""Where a retrain runs, and how its model is promoted: seams over the ``llmops`` CLI.

The fine-tune and registry CLI (``llmops finetune run``, ``llmops models promote |
rollback``, all with ``--json``) is the contract. :class:`LocalExecutor` runs it
as a child process on this machine; in Kubernetes the operator's FineTuneJob runs
the same command in a Job (an executor that creates that resource implements the
same Protocol).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from llmops.monitoring.errors import RetrainFailed

log = logging.getLogger("llmops.monitoring.executor")

GATE_REFUSED = 3
"""``llmops models promote``'s exit code when a gate refused the version."""


@dataclass(frozen=True, slots=True)
class FineTuneSpec:
    base: str
    data: tuple[Path, ...]
    register: str
    options: Mapping[str, str] = field(default_factory=dict)
    """Further ``llmops finetune run`` options, by name without dashes (``max-steps``)."""


@dataclass(frozen=True, slots=True)
class FineTuneOutcome:
    run_id: str
    model: str
    version: str
    metrics: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class PromoteOutcome:
    promoted: bool
    version: str
    alias: str
    previous: str | None
    refused_by: tuple[str, ...]
    """The gates that refused (empty when promoted)."""


class FineTuneExecutor(Protocol):
    async def finetune(self, spec: FineTuneSpec) -> FineTuneOutcome: ...


class Registry(Protocol):
    async def promote(
        self, model: str, version: str, to: str, gates: Sequence[str], reason: str
    ) -> PromoteOutcome: ...

    async def rollback(self, model: str) -> None: ...

    async def withdraw(self, model: str, version: str, reason: str) -> None:
        """Take ``@challenger`` off ``version`` (its canary was rolled back)."""
        ...

    async def evaluate(
        self, model: str, version: str, suite: Path, against: str | None = None
    ) -> tuple[str, ...]:
        """Run ``suite`` on ``version`` against ``against`` (default: the champion), tagging
        the version with its figures; the suite's gates that refused (empty: all passed)."""
        ...


@dataclass(frozen=True, slots=True)
class CliRunner:
    """Runs ``llmops`` subcommands with ``--json`` and reads the object they print."""

    command: tuple[str, ...] = (sys.executable, "-m", "llmops.cli")
    tracking_uri: str | None = None
    log_dir: Path | None = None
    """Where each command's progress output (stderr) is kept."""
    env: Mapping[str, str] | None = None

    async def run(
        self, args: Sequence[str], what: str, ok: tuple[int, ...] = (0,)
    ) -> tuple[int, dict[str, Any]]:
        argv = [*self.command, *args, "--json"]
        if self.tracking_uri:
            argv += ["--tracking-uri", self.tracking_uri]
        log.info("%s: %s", what, " ".join(argv))
        stderr_path = self.log_dir / f"{what.replace(' ', '-')}.log" if self.log_dir else None
        if stderr_path is not None:
            stderr_path.parent.mkdir(parents=True, exist_ok=True)
        with open(stderr_path or "/dev/null", "ab") as stderr:  # noqa: ASYNC230 (opened once)
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=dict(self.env) if self.env is not None else None,
            )
            out, _ = await proc.communicate()
        code = proc.returncode if proc.returncode is not None else 1
        if code not in ok:
            tail = stderr_path.read_text()[-2000:] if stderr_path else ""
            raise RetrainFailed(f"{what} failed (exit {code}): {tail.strip()}")
        # The JSON object (indented) ends stdout; MLflow may print run links before it.
        start = 0 if out.startswith(b"{") else out.rfind(b"\n{") + 1
        try:
            value = orjson.loads(out[start:]) if out.strip() else {}
        except orjson.JSONDecodeError as e:
            raise RetrainFailed(f"{what} printed no JSON object: {out[-500:]!r}") from e
        if not isinstance(value, dict):
            raise RetrainFailed(f"{what} printed {type(value).__name__}, not an object")
        return code, value


class LocalExecutor:
    """``llmops finetune run ... --json`` as a child process on this machine."""

    def __init__(self, runner: CliRunner) -> None:
        self._runner = runner

    async def finetune(self, spec: FineTuneSpec) -> FineTuneOutcome:
        args = ["finetune", "run", "--base", spec.base, "--register", spec.register]
        for path in spec.data:
            args += ["--data", str(path)]
        for name, value in spec.options.items():
            args += [f"--{name}", value]
        _, out = await self._runner.run(args, "finetune run")
        try:
            return FineTuneOutcome(
                run_id=str(out["run_id"]),
                model=str(out["model"]),
                version=str(out["version"]),
                metrics={k: float(v) for k, v in (out.get("metrics") or {}).items()},
            )
        except (KeyError, TypeError, ValueError) as e:
            raise RetrainFailed(f"finetune run printed an unexpected object: {out}") from e


class CliRegistry:
    """``llmops models promote | rollback | withdraw ... --json`` as child processes."""

    def __init__(self, runner: CliRunner) -> None:
        self._runner = runner

    async def promote(
        self, model: str, version: str, to: str, gates: Sequence[str], reason: str
    ) -> PromoteOutcome:
        args = ["models", "promote", model, "--version", version, "--to", to, "--reason", reason]
        for gate in gates:
            args += ["--gate", gate]
        code, out = await self._runner.run(args, f"promote {to}", ok=(0, GATE_REFUSED))
        refused = _refused(out)
        return PromoteOutcome(
            promoted=code == 0 and bool(out.get("promoted", True)),
            version=str(out.get("version", version)),
            alias=str(out.get("alias", to)),
            previous=None if out.get("previous") is None else str(out["previous"]),
            refused_by=refused,
        )

    async def rollback(self, model: str) -> None:
        await self._runner.run(["models", "rollback", model], "rollback")

    async def evaluate(
        self, model: str, version: str, suite: Path, against: str | None = None
    ) -> tuple[str, ...]:
        args = [
            "eval", "run", "--model", f"models:/{model}/{version}",
            "--against", against or f"models:/{model}@champion", "--suite", str(suite),
        ]  # fmt: skip
        _, out = await self._runner.run(args, "eval run", ok=(0, GATE_REFUSED))
        return _refused(out)

    async def withdraw(self, model: str, version: str, reason: str) -> None:
        args = ["models", "withdraw", model, "--version", version, "--reason", reason]
        await self._runner.run(args, "withdraw challenger")


def _refused(out: Mapping[str, Any]) -> tuple[str, ...]:
    """The gates a command's JSON answer says refused."""
    return tuple(
        str(g.get("expression"))
        for g in out.get("gates") or []
        if isinstance(g, dict) and not g.get("passed")
    )
