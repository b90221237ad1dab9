"""``llmops up`` as a newcomer runs it: it starts, prints a key that works, and Ctrl-C
leaves nothing running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.http import call, chat
from tests.support.services import free_port


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _get(url: str) -> str:
    try:
        return call("GET", url, timeout=5).body.decode()
    except OSError:
        return ""


def test_up_starts_the_stack_prints_a_working_key_and_stops_cleanly(tmp_path: Path) -> None:
    ports = {
        "--port": free_port(),
        "--replica-port": free_port(),
        "--mlflow-port": free_port(),
        "--drift-port": free_port(),
    }
    argv = [sys.executable, "-m", "llmops.cli", "up", "--echo"]
    for flag, port in ports.items():
        argv += [flag, str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMOPS_")}
    with (tmp_path / "stdout").open("w") as out:
        proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while "Stop with Ctrl-C" not in (text := (tmp_path / "stdout").read_text()):
            assert proc.poll() is None, text
            assert time.monotonic() < deadline, text
            time.sleep(0.5)
        key = next(line for line in text.splitlines() if line.startswith("API key: ")).split()[-1]
        question = {
            "model": "smollm2",
            "messages": [{"role": "user", "content": "hello"}],
            "temperature": 0,
        }
        reply = chat(f"http://127.0.0.1:{ports['--port']}", key, question)
        assert reply.status == 200, reply.body
        assert reply.headers["x-llmops-cache"] == "miss"
        # The local gateway caches answers in process: the same question again is a hit.
        again = chat(f"http://127.0.0.1:{ports['--port']}", key, question)
        assert again.status == 200 and again.headers["x-llmops-cache"] == "hit", again.headers
        first, hit = reply.json(), again.json()
        # The same answer, named by the id of the request that got it.
        assert first["id"] == reply.headers["x-llmops-request-id"]
        assert hit["id"] == again.headers["x-llmops-request-id"] != first["id"]
        assert {**hit, "id": None} == {**first, "id": None}
        # Its semantic tier serves only under the error bound, learning first.
        gateway_metrics = _get(f"http://127.0.0.1:{ports['--port']}/metrics")
        assert "llmops_cache_max_wrong_rate 0.01" in gateway_metrics, gateway_metrics
        assert f"http://127.0.0.1:{ports['--port']}/v1/chat/completions" in text
        assert "from openai import OpenAI" in text
        # The drift monitor runs beside it: its first check (too few requests) is exported.
        drift_metrics = f"http://127.0.0.1:{ports['--drift-port']}/metrics"
        assert drift_metrics in text
        deadline = time.monotonic() + 60
        while 'llmops_drift_detected{deployment="smollm2"} 0.0' not in (
            body := _get(drift_metrics)
        ):
            assert time.monotonic() < deadline, body
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    assert not any(listening(p) for p in ports.values())
    assert (tmp_path / ".llmops" / "api-key").read_text().strip() == key
