"""A person's rows in the request log, found by the name the client gave, exported and
erased on request (the admin API and the CLI), with the erasure in the audit trail."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from gateway.subjects import SubjectHasher
from llmops.monitoring import dataset
from llmops.registry.store import DATA_FILES_TAG, ModelRegistry
from llmops.registry.tracking import RunLog
from llmops.serving.echo import EchoServer
from llmops.training import dataset as training
from tests.requestlog.test_gateway_log import ask, wait_rows
from tests.support.gateways import ADMIN_TOKEN, RunningGateway, gateway_in_thread, settings_for
from tests.support.http import call, new_key
from tests.support.traffic import records


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
        assert entry["actor"] == "admin:dpo@example" and entry["target"] == erased["subject"]
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


def test_a_user_leaves_exported_windows_and_the_versions_trained_on_them_are_named(
    sqlite_url: str, mlflow_url: str, tmp_path: Path
) -> None:
    settings = settings_for(sqlite_url, {"echo": ["http://127.0.0.1:9/v1"]})
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json", exclude_none=True)))
    hasher = SubjectHasher(settings.key_hash_secret)
    ann, bob = hasher.user_hash("ann"), hasher.user_hash("bob")
    rows = records(6, new_domain=False, seed=3)
    rows = [
        replace(r, key_id="k1", user_hash=ann if i % 3 == 0 else bob) for i, r in enumerate(rows)
    ]
    windows = tmp_path / "drift"
    assert dataset.write_window(rows, windows / "bot" / "window-bot-1.jsonl", 100) == 6
    assert dataset.write_window(rows[1:3], windows / "bot" / "window-bot-2.jsonl", 100) == 2
    registry = ModelRegistry(mlflow_url)
    name = f"bot-{secrets.token_hex(3)}"
    trained = {}
    for files in (["seed.jsonl", "window-bot-1.jsonl"], ["seed.jsonl", "window-bot-2.jsonl"]):
        run = RunLog.start(registry, name, run_name="trained", tags={})
        run.finish()
        version = registry.register(
            name, run_id=run.run_id, tags={DATA_FILES_TAG: json.dumps(files)}
        )
        trained[files[1]] = version.version

    counted = llmops(
        config, "forget", "--user", "ann", "--windows", str(windows), "--tracking-uri",
        mlflow_url, "--dry-run", "--json",
    )  # fmt: skip
    assert counted.returncode == 0, counted.stderr
    assert json.loads(counted.stdout)["window_lines"] == 2
    assert len(training.load([windows / "bot" / "window-bot-1.jsonl"])) == 6  # untouched

    erased = llmops(
        config, "forget", "--user", "ann", "--windows", str(windows), "--tracking-uri",
        mlflow_url, "--json",
    )  # fmt: skip
    assert erased.returncode == 0, erased.stderr
    out = json.loads(erased.stdout)
    assert (out["window_lines"], out["window_files"]) == (2, ["window-bot-1.jsonl"])
    assert [(v["model"], v["version"], v["data_files"]) for v in out["model_versions"]] == [
        (name, trained["window-bot-1.jsonl"], ["window-bot-1.jsonl"])
    ]
    left = training.load([windows / "bot" / "window-bot-1.jsonl"])  # still a training set
    assert [c.prompt[0]["content"] for c in left.rows] == [
        r.prompt_text for r in rows if r.user_hash == bob
    ]
    assert ann not in (windows / "bot" / "window-bot-1.jsonl").read_text()
    assert len(training.load([windows / "bot" / "window-bot-2.jsonl"])) == 2

    said = llmops(config, "forget", "--user", "bob", "--windows", str(windows))
    assert said.returncode == 0, said.stderr
    assert "6 lines of exported windows (files: window-bot-1.jsonl, window-bot-2.jsonl)" in (
        said.stdout
    )
    assert "not searched (no --tracking-uri)" in said.stdout
    assert "in the gateway's process" in said.stdout
