"""Sample CRs validate against the CRDs; invalid ones are rejected with clear messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from llmops.cli.main import cli
from operators import schemas
from tests.support import kube

EXAMPLES = sorted((kube.ROOT / "helm/llmops/examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_samples_are_valid(path: Path) -> None:
    assert schemas.problems(yaml.safe_load(path.read_text())) == []


def finetunejob(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "llmops.io/v1alpha1",
        "kind": "FineTuneJob",
        "metadata": {"name": "x"},
        "spec": spec,
    }


def test_invalid_resources_name_the_field_and_the_rule() -> None:
    problems = schemas.problems(finetunejob(datasets=[], gpus=-1, recipe="full", outputModel="a b"))
    assert problems == [
        "spec.gpus: -1 is less than the minimum of 0",
        "spec.outputModel: 'a b' does not match '^[A-Za-z0-9][A-Za-z0-9_.-]*$'",
        "spec.recipe: 'full' is not one of ['lora-sft', 'dpo']",
    ]
    assert schemas.problems(finetunejob(outputModel="m")) == [
        "spec: 'datasets' is a required property"
    ]
    md = {
        "apiVersion": "llmops.io/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "m"},
        "spec": {"model": "m", "engine": "tpu", "canary": {"weight": 120}},
    }
    assert schemas.problems(md) == [
        "spec.canary.weight: 120 is greater than the maximum of 100",
        "spec.engine: 'tpu' is not one of ['vllm', 'cpu']",
    ]
    priced = {
        **md,
        "spec": {"model": "m", "price": {"input": 0.5, "cachedInput": "1e-3", "output": "2"}},
    }
    assert schemas.problems(priced) == [
        "spec.price.cachedInput: '1e-3' does not match '^[0-9]{1,6}(\\\\.[0-9]{1,9})?$'",
        "spec.price.input: 0.5 is not of type 'string'",
    ]
    assert schemas.problems({**md, "spec": {"model": "m", "price": {"input": "1"}}}) == [
        "spec.price: 'output' is a required property"
    ]
    out_of_range = {"input": "1000000", "output": "0.0000000001"}
    assert [
        p.split(":")[0]
        for p in schemas.problems({**md, "spec": {"model": "m", "price": out_of_range}})
    ] == ["spec.price.input", "spec.price.output"]
    assert (
        schemas.problems(
            {**md, "spec": {"model": "m", "price": {"input": "0.000000001", "output": "12.5"}}}
        )
        == []
    )
    assert schemas.problems({"apiVersion": "v1", "kind": "Pod"})[0].startswith(
        "unknown resource v1 Pod"
    )


def test_llmops_operator_validate_reports_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump_all(
            [finetunejob(datasets=["d"], outputModel="m", hyperparameters={"learningRate": 0})]
        )
    )
    runner = CliRunner()
    ok = runner.invoke(cli, ["operator", "validate", *map(str, EXAMPLES)])
    assert ok.exit_code == 0, ok.output
    assert "FineTuneJob support-bot-2026-11: ok" in ok.output
    failed = runner.invoke(cli, ["operator", "validate", str(bad)])
    assert failed.exit_code == 2
    assert (
        "spec.hyperparameters.learningRate: 0 is less than or equal to the minimum of 0"
        in failed.output
    )
