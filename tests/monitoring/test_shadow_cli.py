"""``llmops drift shadow``: a shadow held by a registry alias, judged on the request log's
mirrored rows against a real MLflow server (how a DriftMonitor's feedback loop moves a
DPO version from its shadow period to the canary)."""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from llmops.cli.main import cli
from llmops.registry import promotion
from llmops.registry.store import ModelRegistry
from tests.monitoring.test_cli import write_log
from tests.registry.conftest import register_version
from tests.support.traffic import records

ACTOR = promotion.Actor("test", "set-up")
HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture
def model_name() -> str:
    return f"bot-{secrets.token_hex(3)}"


@pytest.fixture
def shadowed(mlflow_url: str, model_name: str, tmp_path: Path) -> dict[str, Any]:
    """Version 1 champion; version 2 @shadow."""
    registry = ModelRegistry(mlflow_url)
    champion = register_version(registry, model_name, tmp_path, eval_loss=1.0)
    shadow = register_version(registry, model_name, tmp_path, eval_loss=0.9)
    for version, alias in ((champion, "champion"), (shadow, "shadow")):
        promotion.promote(registry, model_name, version=version, alias=alias, gates=(), actor=ACTOR)
    return {"registry": registry, "champion": champion, "shadow": shadow}


def mirrored(champion: str, shadow: str, *, shadow_status: int = 200, n: int = 30) -> list[Any]:
    """``n`` answered requests since an hour ago, each mirrored to the shadow."""
    rows = []
    for i, r in enumerate(records(n, seed=1, start=HOUR_AGO + timedelta(minutes=1))):
        primary = dataclasses.replace(
            r, model_version=champion, request_id=f"req-{i}", latency_ms=300.0
        )
        rows.append(primary)
        rows.append(
            dataclasses.replace(
                primary,
                model_version=shadow,
                shadow=True,
                status=shadow_status,
                latency_ms=320.0,
            )
        )
    return rows


def judge(mlflow_url: str, database_url: str, model: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli,
        [
            "drift", "shadow", "--deployment", "smollm2", "--model", model,
            "--database-url", database_url, "--json",
        ],
        env={"LLMOPS_MLFLOW__TRACKING_URI": mlflow_url},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def soaked(registry: ModelRegistry, model: str, version: str) -> None:
    """The shadow has held its alias for an hour (past the default 30-minute soak)."""
    registry.tag_version(model, version, {"shadow.promoted_at": HOUR_AGO.isoformat()})


def test_a_shadow_no_worse_than_the_primary_becomes_challenger_after_the_soak(
    shadowed: dict[str, Any], mlflow_url: str, sqlite_url: str, model_name: str
) -> None:
    champion, shadow = shadowed["champion"], shadowed["shadow"]
    registry: ModelRegistry = shadowed["registry"]
    write_log(sqlite_url, mirrored(champion, shadow))
    watching = judge(mlflow_url, sqlite_url, model_name)
    assert watching["verdict"] == "watch", watching  # promoted just now: soaking
    assert any("soaking" in r for r in watching["reasons"])
    soaked(registry, model_name, shadow)
    # A canary is being judged (a drift retrain's): the sound shadow waits for it.
    promotion.promote(
        registry, model_name, version=champion, alias="challenger", gates=(), actor=ACTOR
    )
    waiting = judge(mlflow_url, sqlite_url, model_name)
    assert waiting["verdict"] == "watch" and "waits for the canary" in waiting["reasons"][0]
    promotion.withdraw(registry, model_name, alias="challenger", version=champion, actor=ACTOR)
    passed = judge(mlflow_url, sqlite_url, model_name)
    assert passed["verdict"] == "challenger", passed
    assert passed["figures"]["pairs"] == 30 and passed["figures"]["agreement"] == 1.0
    assert registry.by_alias(model_name, "challenger").version == shadow  # type: ignore[union-attr]
    assert registry.by_alias(model_name, "shadow") is None
    assert registry.by_alias(model_name, "champion").version == champion  # type: ignore[union-attr]
    assert judge(mlflow_url, sqlite_url, model_name)["verdict"] == "none"


def test_a_failing_shadow_loses_its_alias_and_never_reaches_the_canary(
    shadowed: dict[str, Any], mlflow_url: str, sqlite_url: str, model_name: str
) -> None:
    champion, shadow = shadowed["champion"], shadowed["shadow"]
    registry: ModelRegistry = shadowed["registry"]
    write_log(sqlite_url, mirrored(champion, shadow, shadow_status=502))
    soaked(registry, model_name, shadow)
    out = judge(mlflow_url, sqlite_url, model_name)
    assert out["verdict"] == "withdrawn", out
    assert any("error rate" in r for r in out["reasons"])
    assert registry.by_alias(model_name, "shadow") is None
    assert registry.by_alias(model_name, "challenger") is None
    tags = registry.version(model_name, shadow).tags
    assert tags["shadow.withdrawn_by"] == "llmops drift shadow"
