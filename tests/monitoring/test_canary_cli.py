"""``llmops drift canary``: a challenger held by registry aliases, judged on the request
log against a real MLflow server (how a DriftMonitor's CronJob closes the loop)."""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
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


@pytest.fixture
def model_name() -> str:
    return f"bot-{secrets.token_hex(3)}"


@pytest.fixture
def canary(mlflow_url: str, model_name: str, tmp_path: Path) -> dict[str, Any]:
    """Version 1 champion, version 2 challenger (promoted just now)."""
    registry = ModelRegistry(mlflow_url)
    champion = register_version(registry, model_name, tmp_path, eval_loss=1.0)
    challenger = register_version(registry, model_name, tmp_path, eval_loss=0.9)
    for version, alias in ((champion, "champion"), (challenger, "challenger")):
        promotion.promote(registry, model_name, version=version, alias=alias, gates=(), actor=ACTOR)
    time.sleep(1.1)  # promotion stamps have whole seconds: traffic comes after
    return {"registry": registry, "champion": champion, "challenger": challenger}


def traffic(champion: str, challenger: str, *, failing: int = 0, n: int = 30) -> list[Any]:
    """``n`` answered requests per version since the canary began; ``failing`` of the
    champion's rows are retries of a challenger failure the client never saw."""
    start = datetime.now(UTC) - timedelta(milliseconds=500)
    rows = []
    for version, seed in ((champion, 1), (challenger, 2)):
        for i, r in enumerate(records(n, new_domain=False, seed=seed, start=start)):
            rows.append(
                dataclasses.replace(
                    r,
                    at=start + timedelta(milliseconds=5 * i),
                    model_version=version,
                    latency_ms=300.0,
                    failed_attempts=(("smollm2", challenger),)
                    if version == champion and i < failing
                    else (),
                )
            )
    return rows


def judge(mlflow_url: str, database_url: str, model: str, **env: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli,
        [
            "drift", "canary", "--deployment", "smollm2", "--model", model,
            "--database-url", database_url, "--json",
        ],
        env={"LLMOPS_MLFLOW__TRACKING_URI": mlflow_url, **env},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def test_a_challenger_whose_hidden_failures_make_it_worse_loses_its_alias(
    canary: dict[str, Any], mlflow_url: str, sqlite_url: str, model_name: str
) -> None:
    champion, challenger = canary["champion"], canary["challenger"]
    write_log(sqlite_url, traffic(champion, challenger, failing=10))
    out = judge(mlflow_url, sqlite_url, model_name)
    assert out["verdict"] == "rollback"
    assert out["figures"][challenger]["requests"] == 40  # 30 answered + 10 failed tries
    assert out["figures"][challenger]["error_rate"] == pytest.approx(0.25)
    assert "error rate 25.0% against 0.0%" in out["reasons"][0]
    registry: ModelRegistry = canary["registry"]
    assert registry.by_alias(model_name, "challenger") is None
    assert registry.by_alias(model_name, "champion").version == champion  # type: ignore[union-attr]
    tags = registry.version(model_name, challenger).tags
    assert tags["challenger.withdrawn_by"] == "llmops drift canary"
    assert "error rate" in tags["challenger.withdraw_reason"]
    # Nothing left to judge.
    assert judge(mlflow_url, sqlite_url, model_name)["verdict"] == "none"


def test_a_sound_challenger_is_watched_through_the_soak_then_promoted(
    canary: dict[str, Any], mlflow_url: str, sqlite_url: str, model_name: str
) -> None:
    champion, challenger = canary["champion"], canary["challenger"]
    write_log(sqlite_url, traffic(champion, challenger))
    registry: ModelRegistry = canary["registry"]
    watching = judge(mlflow_url, sqlite_url, model_name)  # the default soak is 30 minutes
    assert watching["verdict"] == "watch" and "soaking" in watching["reasons"][0]
    assert registry.by_alias(model_name, "challenger").version == challenger  # type: ignore[union-attr]

    soaked = {"LLMOPS_DRIFT__CANARY__SOAK_SECONDS": "0", "LLMOPS_DRIFT__CANARY__MIN_REQUESTS": "20"}
    promoted = judge(mlflow_url, sqlite_url, model_name, **soaked)
    assert promoted["verdict"] == "promote"
    assert registry.by_alias(model_name, "champion").version == challenger  # type: ignore[union-attr]
    assert registry.by_alias(model_name, "challenger") is None
    assert registry.model(model_name).champion_history[-2:] == [champion, challenger]
    assert judge(mlflow_url, sqlite_url, model_name, **soaked)["verdict"] == "none"


def test_too_few_challenger_requests_after_the_soak_keep_it_watched(
    canary: dict[str, Any], mlflow_url: str, sqlite_url: str, model_name: str
) -> None:
    # A start stamp written by hand, without a zone: taken as UTC.
    naive = (datetime.now(UTC) - timedelta(seconds=1)).replace(tzinfo=None).isoformat()
    canary["registry"].tag_version(
        model_name, canary["challenger"], {"challenger.promoted_at": naive}
    )
    write_log(sqlite_url, traffic(canary["champion"], canary["challenger"], n=5))
    out = judge(mlflow_url, sqlite_url, model_name, LLMOPS_DRIFT__CANARY__SOAK_SECONDS="0")
    assert out["verdict"] == "watch"
    assert out["reasons"] == ["5 of 20 requests needed"]
    assert canary["registry"].by_alias(model_name, "challenger").version == canary["challenger"]
