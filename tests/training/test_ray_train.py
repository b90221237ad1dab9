"""The same recipe on Ray Train's TorchTrainer, with one local worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from llmops.cli.main import cli
from tests.support import finetuning


@pytest.mark.timeout(900)
def test_one_ray_train_worker_runs_the_recipe_and_registers_the_adapter(
    finetuned: dict[str, Any], mlflow_url: str, model_cache: Path, tmp_path: Path
) -> None:
    args = finetuning.finetune_args(
        finetuned["train"],
        finetuned["eval"],
        register="facts-ray",
        output=tmp_path / "out",
        cache_dir=model_cache,
        tracking_uri=mlflow_url,
        max_steps=3,
        extra=["--workers", "1", "--batch-size", "2"],
    )
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    answer = orjson.loads(result.stdout)
    client = MlflowClient(mlflow_url)
    run = client.get_run(answer["run_id"])
    assert run.data.params["workers"] == "1"
    assert [m.step for m in client.get_metric_history(answer["run_id"], "loss")] == [1, 2, 3]
    assert (tmp_path / "out" / "checkpoints" / "step-000003.pt").is_file()
    version = client.get_model_version("facts-ray", answer["version"])
    assert float(version.tags["eval_loss"]) < answer["metrics"]["base_eval_loss"]
