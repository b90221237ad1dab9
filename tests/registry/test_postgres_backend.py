"""The registry on MLflow with its production backend store: PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmops.cli.main import cli
from llmops.registry.store import ModelRegistry
from tests.registry.conftest import register_version
from tests.support.mlflow import mlflow_server


@pytest.mark.timeout(240)
def test_versions_promotion_and_rollback_on_a_postgresql_backend(
    postgres_url: str, tmp_path: Path
) -> None:
    with mlflow_server(postgres_url, tmp_path) as url:
        registry = ModelRegistry(url)
        first = register_version(registry, "pg-bot", tmp_path, eval_loss=1.4)
        second = register_version(registry, "pg-bot", tmp_path, eval_loss=1.2)

        def models(*args: str) -> dict[str, object]:
            result = CliRunner().invoke(cli, ["models", *args, "--tracking-uri", url, "--json"])
            assert result.exit_code == 0, result.output
            answer: dict[str, object] = json.loads(result.stdout)
            return answer

        models("promote", "pg-bot", "--version", first, "--to", "champion")
        promoted = models(
            "promote",
            "pg-bot",
            "--version",
            second,
            "--to",
            "champion",
            "--gate",
            "eval_loss<champion",
        )
        assert promoted["previous"] == first
        assert models("rollback", "pg-bot")["version"] == first
        listed = models("list", "pg-bot")
        assert listed["aliases"] == {"champion": first}
        assert listed["champion_history"] == [first]
