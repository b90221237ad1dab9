"""Child processes of the local stack: started in their own process groups, waited
for with progress on the terminal, and stopped together, leaving nothing behind.

Each child leads a process group, so stopping it reaches everything it started
(MLflow's workers, Ray's daemons): SIGTERM to the group, then SIGKILL after a
grace period.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from llmops.errors import LlmopsError


class StartFailed(LlmopsError):
    """A child of the local stack exited or did not become ready in time."""


def http_ok(url: str, *, timeout: float = 2.0) -> bool:
    """Whether ``GET url`` answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (local URLs we build)
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


class Child:
    def __init__(
        self, name: str, argv: Sequence[str], *, log: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.env = dict(env) if env is not None else None
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 (our own commands)
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,
            )

    def wait_ready(
        self, ready: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.5
    ) -> float:
        """Wait until ``ready()``, printing a dot every few seconds; the seconds it took."""
        assert self.process is not None
        started = time.monotonic()
        sys.stderr.write(f"  {what} ...")
        sys.stderr.flush()
        last_dot = started
        while not ready():
            if self.process.poll() is not None:
                sys.stderr.write(" failed\n")
                raise StartFailed(
                    f"{self.name} exited with status {self.process.returncode}; "
                    f"its log ({self.log}) ends with:\n{self.tail()}"
                )
            now = time.monotonic()
            if now - started > timeout:
                sys.stderr.write(" timed out\n")
                raise StartFailed(
                    f"{self.name} was not ready after {timeout:.0f} s; its log ({self.log}) "
                    f"ends with:\n{self.tail()}"
                )
            if now - last_dot >= 3:
                sys.stderr.write(".")
                sys.stderr.flush()
                last_dot = now
            time.sleep(interval)
        took = time.monotonic() - started
        sys.stderr.write(f" ready ({took:.0f} s)\n")
        return took

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM to the child's process group, SIGKILL to whatever is left after ``grace``."""
        process = self.process
        if process is None:
            return
        self.process = None
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait(5)
        # Grandchildren that outlived their parent are still in the group.
        _signal_group(process.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class Children:
    """Children stopped together, the last started first, however the block ends."""

    def __init__(self) -> None:
        self._children: list[Child] = []

    def start(self, child: Child) -> Child:
        child.start()
        self._children.append(child)
        return child

    def __enter__(self) -> Children:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        while self._children:
            self._children.pop().stop()
