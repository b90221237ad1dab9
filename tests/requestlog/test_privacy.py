"""A person's rows in the request log, found by the name the client gave, exported and
erased on request (the admin API and the CLI), with the erasure in the audit trail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from llmops.serving.echo import EchoServer
from tests.requestlog.test_gateway_log import ask, wait_rows
from tests.support.gateways import ADMIN_TOKEN, RunningGateway, gateway_in_thread, settings_for
from tests.support.http import call, new_key


def admin(gateway: RunningGateway, path: str, body: dict[str, Any]) -> Any:
    reply = call(
        "POST",
        f"{gateway.url}/admin/{path}",
        body=body,
        headers={"authorization": f"Bearer {ADMIN_TOKEN}", "x-llmops-actor": "dpo@example"},
    )
    return reply.status, reply.json()


def llmops(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmops.cli", "privacy", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def send(gateway: RunningGateway, key: str, text: str, user: str | None) -> None:
    body = ask(text, **({"user": user} if user else {}))
    reply = call(
        "POST",
        f"{gateway.v1}/chat/completions",
        body=body,
        headers={"authorization": f"Bearer {key}"},
    )
    assert reply.status == 200, reply.body


def test_a_user_is_exported_and_forgotten_and_others_are_kept(
    echo: EchoServer, sqlite_url: str, tmp_path: Path
) -> None:
    settings = settings_for(sqlite_url, {"echo": [echo.url]}, request_log={"flush_seconds": 0.05})
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json", exclude_none=True)))
    with gateway_in_thread(settings) as gateway:
        key_a, key_b = new_key(gateway.url, "team-a"), new_key(gateway.url, "team-b")
        send(gateway, key_a, "alice asks one", "alice")
        send(gateway, key_a, "alice asks two", "alice")
        send(gateway, key_a, "bob asks", "bob")
        send(gateway, key_b, "nobody named", None)
        assert len(wait_rows(sqlite_url, 4)) == 4

        status, exported = admin(gateway, "privacy/export", {"user": "alice"})
        assert status == 200
        assert [r["prompt_text"] for r in exported["data"]] == ["alice asks one", "alice asks two"]

        status, counted = admin(gateway, "privacy/forget", {"user": "alice", "dry_run": True})
        assert (status, counted["request_log_rows"], counted["dry_run"]) == (200, 2, True)
        assert len(wait_rows(sqlite_url, 4)) == 4  # a dry run erases nothing

        status, erased = admin(gateway, "privacy/forget", {"user": "alice"})
        assert (status, erased["request_log_rows"]) == (200, 2)
        assert sorted(r.prompt_text or "" for r in wait_rows(sqlite_url, 2)) == [
            "bob asks",
            "nobody named",
        ]
        audit = call(
            "GET",
            f"{gateway.url}/admin/audit",
            headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        ).json()["data"]
        entry = next(e for e in audit if e["action"] == "privacy.forget")
        assert entry["actor"] == "dpo@example" and entry["target"] == erased["subject"]
        assert "alice" not in json.dumps(audit)

        for body in ({}, {"user": "bob", "team": "team-a"}):
            status, error = admin(gateway, "privacy/forget", body)
            assert status == 400 and error["error"]["param"] == "subject", error

    # The same from the command line, on the database.
    out = tmp_path / "bob.jsonl"
    exported_cli = llmops(config, "export", "--user", "bob", "--out", str(out))
    assert exported_cli.returncode == 0, exported_cli.stderr
    assert [json.loads(line)["prompt_text"] for line in out.read_text().splitlines()] == [
        "bob asks"
    ]
    forgotten = llmops(config, "forget", "--team", "team-b", "--json")
    assert forgotten.returncode == 0, forgotten.stderr
    assert json.loads(forgotten.stdout)["request_log_rows"] == 1
    assert [r.prompt_text for r in wait_rows(sqlite_url, 1)] == ["bob asks"]
    refused = llmops(config, "forget")
    assert refused.returncode == 1 and "exactly one subject" in refused.stderr
