"""Teams and keys through the admin API and the CLI, as operators use them."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

from gateway.settings import GatewaySettings
from llmops.serving.echo import EchoServer
from tests.support.gateways import RunningGateway, gateway_in_thread, settings_for
from tests.support.http import admin, chat

HELLO = {"model": "echo", "messages": [{"role": "user", "content": "hello"}]}


def test_key_lifecycle_through_the_admin_api(gateway: RunningGateway) -> None:
    created = admin(
        "POST",
        gateway.url,
        "/keys",
        {"team": "search", "name": "ci", "rpm": 100, "models": ["echo"]},
    )
    assert created.status == 201
    body = created.json()
    key, key_id = body["key"], body["id"]
    assert key.startswith("sk-llmops-") and len(key) >= len("sk-llmops-") + 43
    assert chat(gateway.url, key, HELLO).status == 200

    listed = admin("GET", gateway.url, "/keys?team=search").json()["data"]
    assert [k["id"] for k in listed] == [key_id]
    assert "key" not in listed[0]
    assert key not in admin("GET", gateway.url, "/keys").body.decode()
    assert listed[0]["prefix"] == key[: len(listed[0]["prefix"])]

    rotated = admin("POST", gateway.url, f"/keys/{key_id}/rotate").json()
    assert rotated["rotated_from"] == key_id
    assert rotated["models"] == ["echo"] and rotated["rpm"] == 100
    assert chat(gateway.url, rotated["key"], HELLO).status == 200

    revoked = admin("POST", gateway.url, f"/keys/{rotated['id']}/revoke").json()
    assert revoked["revoked_at"] is not None
    assert admin("GET", gateway.url, "/keys?team=search").json()["data"] == []
    assert (
        len(admin("GET", gateway.url, "/keys?team=search&include_revoked=true").json()["data"]) == 2
    )


def test_audit_trail_records_actor_and_action(gateway: RunningGateway) -> None:
    key_id = admin("POST", gateway.url, "/keys", {"team": "audited"}).json()["id"]
    admin("PATCH", gateway.url, f"/keys/{key_id}", {"tpm": 1000})
    admin("PATCH", gateway.url, "/teams/audited", {"rpm": 50})
    admin("POST", gateway.url, f"/keys/{key_id}/revoke")
    entries = admin("GET", gateway.url, "/audit").json()["data"]
    actions = [(e["action"], e["target"]) for e in reversed(entries)]
    assert actions == [
        ("team.created", "audited"),
        ("key.created", key_id),
        ("key.limits_changed", key_id),
        ("team.limits_changed", "audited"),
        ("key.revoked", key_id),
    ]
    assert all(e["actor"] == "admin" and e["at"] for e in entries)
    assert entries[2]["details"] == {"tpm": 1000}


def test_revocation_reaches_every_replica_within_seconds(echo: EchoServer, sqlite_url: str) -> None:
    settings = settings_for(sqlite_url, {"echo": [echo.url]}, key_cache_seconds=1.0)
    with gateway_in_thread(settings) as one, gateway_in_thread(settings) as two:
        created = admin("POST", one.url, "/keys", {"team": "t"}).json()
        for gw in (one, two):  # both replicas now hold the key in their caches
            assert chat(gw.url, created["key"], HELLO).status == 200
        admin("POST", one.url, f"/keys/{created['id']}/revoke")
        revoked_at = time.monotonic()
        while chat(two.url, created["key"], HELLO).status == 200:
            assert time.monotonic() - revoked_at < 3, "the other replica still admits a revoked key"
            time.sleep(0.1)
        assert chat(two.url, created["key"], HELLO).status == 401


def _llmops(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmops.cli", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_cli_keys_work_against_a_running_gateway(
    echo: EchoServer, sqlite_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        sqlite_url, {"echo": [echo.url], "other": [echo.url]}, key_cache_seconds=0.5
    )
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(settings.model_dump(mode="json", exclude_none=True)))

    created = _llmops(
        config, "keys", "create", "--team", "cli-team", "--rpm", "5", "--models", "echo"
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("sk-llmops-")

    listed = _llmops(config, "keys", "list", "--json")
    records = json.loads(listed.stdout)
    assert [(r["team"], r["models"], r["rpm"]) for r in records] == [("cli-team", ["echo"], 5)]
    key_id = records[0]["id"]
    assert key not in listed.stdout

    with gateway_in_thread(settings) as gw:
        assert chat(gw.url, key, HELLO).status == 200
        assert chat(gw.url, key, {**HELLO, "model": "other"}).status == 403
        rotated = _llmops(config, "keys", "rotate", key_id)
        assert rotated.returncode == 0, rotated.stderr
        new_key = rotated.stdout.strip().splitlines()[-1]
        assert _llmops(config, "keys", "revoke", "nope").returncode == 1
        rotated_at = time.monotonic()
        while chat(gw.url, key, HELLO).status != 401:  # within the key cache's 0.5 s
            assert time.monotonic() - rotated_at < 10, "the rotated key still works"
            time.sleep(0.05)
        assert chat(gw.url, new_key, HELLO).status == 200

    limits = _llmops(config, "teams", "set-limits", "cli-team", "--tpm", "900", "--json")
    assert json.loads(limits.stdout)["tpm"] == 900
    assert _llmops(config, "keys", "create", "--team", "x", "--rpm", "0").returncode == 2


def test_cli_reports_a_bad_config_clearly(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("models: [{name: m, upstreams: [not-a-url]}]\n")
    result = _llmops(config, "keys", "list")
    assert result.returncode == 1
    assert "models.0.upstreams.0" in result.stderr
    assert "Traceback" not in result.stderr


def test_keys_are_stored_only_as_keyed_hashes(echo: EchoServer, sqlite_url: str) -> None:
    import sqlite3

    settings = settings_for(sqlite_url, {"echo": [echo.url]})
    with gateway_in_thread(settings) as gw:
        key = admin("POST", gw.url, "/keys", {"team": "t"}).json()["key"]
    database = sqlite_url.removeprefix("sqlite:///")
    dump = "\n".join(sqlite3.connect(database).iterdump())
    assert key not in dump
    assert key[len("sk-llmops-") :] not in dump


def test_cli_budgets_expiry_rotation_grace_and_spend(
    echo: EchoServer, sqlite_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        sqlite_url,
        {"echo": [echo.url]},
        key_cache_seconds=0.2,
        budgets={"timezone": "America/New_York", "flush_seconds": 0.1},
    )
    models = [{**settings.models[0].model_dump(mode="json"), "price": {"input": 1, "output": 3}}]
    config = tmp_path / "gateway.yaml"
    config.write_text(
        yaml.safe_dump({**settings.model_dump(mode="json", exclude_none=True), "models": models})
    )
    budget = _llmops(
        config, "teams", "set-budget", "fin", "--amount", "25", "--period", "day", "--json"
    )
    assert budget.returncode == 0, budget.stderr
    assert json.loads(budget.stdout)["budget"] == {"amount": "25", "period": "day"}
    assert _llmops(config, "teams", "set-budget", "fin").returncode == 2  # --amount or --clear
    assert _llmops(config, "teams", "set-budget", "fin", "--amount", "-3").returncode == 2

    created = _llmops(
        config,
        "keys",
        "create",
        "--team",
        "fin",
        "--expires",
        "30d",
        "--budget",
        "2",
        "--budget-period",
        "day",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    record = json.loads(created.stdout)
    expires = dt.datetime.fromisoformat(record["expires_at"])
    assert dt.timedelta(days=29) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=30)
    assert record["budget"] == {"amount": "2", "period": "day"}
    assert _llmops(config, "keys", "create", "--team", "fin", "--expires", "soon").returncode == 2

    with gateway_in_thread(
        GatewaySettings.model_validate(yaml.safe_load(config.read_text()))
    ) as gw:
        assert chat(gw.url, record["key"], HELLO).status == 200
        rotated = _llmops(config, "keys", "rotate", record["id"], "--grace", "10m", "--json")
        assert rotated.returncode == 0, rotated.stderr
        new = json.loads(rotated.stdout)
        # The new key keeps the old one's lifetime, from now; the old one works for 10 minutes.
        assert dt.datetime.fromisoformat(new["expires_at"]) > expires
        assert chat(gw.url, record["key"], HELLO).status == 200
        assert chat(gw.url, new["key"], HELLO).status == 200
        listed = _llmops(config, "keys", "list")
        assert "expires" in listed.stdout

        deadline = time.monotonic() + 10
        while True:
            report = _llmops(config, "spend", "--team", "fin", "--by", "key", "--json")
            assert report.returncode == 0, report.stderr
            data = json.loads(report.stdout)
            if data["total"]["requests"] == 3:
                break
            assert time.monotonic() < deadline, data
            time.sleep(0.1)
    assert {line["key"] for line in data["data"]} == {record["id"], new["id"]}
    assert float(data["total"]["cost"]) > 0
    csv_report = _llmops(config, "spend", "--team", "fin", "--by", "day", "--csv")
    lines = csv_report.stdout.strip().splitlines()
    assert lines[0] == "day,requests,prompt_tokens,cached_tokens,completion_tokens,cost"
    assert lines[-1].startswith("total,3,")
    assert _llmops(config, "spend", "--team", "fin", "--since", "2026-13-01").returncode == 2

    cleared = _llmops(config, "keys", "set-budget", new["id"], "--clear", "--json")
    assert json.loads(cleared.stdout)["budget"] is None
    with gateway_in_thread(settings) as gw:
        actions = [e["action"] for e in admin("GET", gw.url, "/audit").json()["data"]]
    for action in (
        "team.budget_set",
        "key.created",
        "key.rotated",
        "spend.read",
        "key.budget_cleared",
    ):
        assert action in actions
