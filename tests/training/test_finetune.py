"""Real LoRA runs on the bundled model, logged and registered in a real MLflow server."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from llmops.cli.main import cli
from tests.support import finetuning


def test_the_adapter_changes_the_answers_and_the_version_carries_its_lineage(
    finetuned: dict[str, Any], mlflow_url: str
) -> None:
    metrics = finetuned["metrics"]
    assert metrics["base_match"] == 0.0  # the bundled model cannot know made-up codenames
    assert metrics["match"] >= 0.75
    assert metrics["eval_loss"] < metrics["base_eval_loss"] / 2
    assert metrics["perplexity"] == pytest.approx(2.718281828 ** metrics["eval_loss"], rel=1e-6)
    train: Path = finetuned["train"]
    assert finetuned["dataset_sha256"] == hashlib.sha256(train.read_bytes()).hexdigest()
    assert finetuned["dataset_rows"] == 8
    assert finetuned["base"] == "bundled:smollm2"

    client = MlflowClient(mlflow_url)
    version = client.get_model_version("facts", finetuned["version"])
    assert version.run_id == finetuned["run_id"]
    for key in ("eval_loss", "perplexity", "match"):
        assert float(version.tags[key]) == pytest.approx(metrics[key])
    assert version.tags["dataset_sha256"] == finetuned["dataset_sha256"]
    assert version.tags["base"] == "bundled:smollm2"
    assert "parent_version" not in version.tags

    run = client.get_run(finetuned["run_id"])
    assert run.data.params["lora_r"] == "8"
    assert run.data.params["max_seq_len"] == "64"
    assert run.data.tags["dataset_rows"] == "8"
    losses = client.get_metric_history(finetuned["run_id"], "loss")
    assert [m.step for m in losses] == list(range(1, 13))
    assert losses[-1].value < losses[0].value
    files = {
        f.path: f.file_size or 0 for f in client.list_artifacts(finetuned["run_id"], "adapter")
    }
    assert files["adapter/adapter_config.json"] > 0
    assert 1_000_000 < files["adapter/adapter_model.safetensors"] < 8_000_000


def _wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, "the run ended before its first checkpoint"
        assert time.monotonic() < deadline, f"no {path} after {timeout} s"
        time.sleep(0.2)


@pytest.mark.timeout(900)
def test_a_killed_run_resumes_from_its_checkpoint_on_a_registered_base(
    finetuned: dict[str, Any], mlflow_url: str, model_cache: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out"
    args = finetuning.finetune_args(
        finetuned["train"],
        finetuned["eval"],
        register="facts-tuned",
        output=output,
        cache_dir=model_cache,
        tracking_uri=mlflow_url,
        max_steps=6,
        extra=["--checkpoint-every", "2", "--batch-size", "2"],
    )
    args[args.index("bundled:smollm2")] = f"models:/facts/{finetuned['version']}"
    log = (tmp_path / "killed.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "llmops.cli", *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        _wait_for(output / "checkpoints" / "step-000002.pt", process, timeout=600)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    run_id = json.loads((output / "run.json").read_text())["run_id"]
    assert not list(output.glob("adapter/*.safetensors"))  # it never finished

    resumed = CliRunner().invoke(cli, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    answer = orjson.loads(resumed.stdout)
    assert answer["run_id"] == run_id
    assert answer["resumed_from"] >= 2
    assert f"resumed from the checkpoint at step {answer['resumed_from']}" in resumed.output
    assert answer["base"] == f"models:/facts/{finetuned['version']}"

    client = MlflowClient(mlflow_url)
    version = client.get_model_version("facts-tuned", answer["version"])
    assert version.tags["parent_version"] == finetuned["version"]
    steps = sorted({m.step for m in client.get_metric_history(run_id, "loss")})
    assert steps == list(range(1, 7))
    assert client.get_run(run_id).info.status == "FINISHED"
