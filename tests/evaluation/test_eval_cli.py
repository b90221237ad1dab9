"""``llmops eval run`` end to end: real versions from the registry answer a suite, the
result is logged to MLflow and tagged on the version, and promotion gates read it.

The challenger is the session's LoRA run on made-up codenames, which the bundled model
cannot know: on questions about them it is truly better. The same weights registered
twice are truly equal.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from click.testing import CliRunner, Result
from mlflow import MlflowClient

from llmops.cli.main import cli
from llmops.registry.store import ModelRegistry
from tests.support.finetuning import FACTS, SYSTEM

PHRASINGS = ("{q}", "Tell me: {q}", "{q} Reply briefly.")
GATES = ["eval.facts.win_rate>=0.55", "eval.facts.p_value<=0.05"]


def _suite(directory: Path) -> Path:
    rows = [
        {
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": phrasing.format(q=question)},
            ],
            "reference": answer,
            "expectations": {"contains": [answer]},
        }
        for question, answer in FACTS
        for phrasing in PHRASINGS
    ]
    (directory / "facts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    suite = {
        "name": "facts",
        "datasets": ["facts.jsonl"],
        "generation": {"max_tokens": 12},
        "scorers": [{"kind": "contains"}, {"kind": "rouge_l"}, {"kind": "pii_free"}],
        "pairwise": {"by": "contains"},
        "gates": GATES,
    }
    path = directory / "facts.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


@pytest.fixture(scope="module")
def tuned(
    finetuned: dict[str, Any], mlflow_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """A model of its own (so aliases set here touch no other test) whose versions hold the
    session's LoRA adapter, and the suite about its facts."""
    name = f"facts-eval-{secrets.token_hex(3)}"
    registry = ModelRegistry(mlflow_url)
    registry.register(name, run_id=finetuned["run_id"], tags={"base": "bundled:smollm2"})
    return {"name": name, "suite": _suite(tmp_path_factory.mktemp("suite")), "registry": registry}


def _eval(mlflow_url: str, model_cache: Path, *args: str) -> Result:
    argv = [
        "eval", "run", *args, "--tracking-uri", mlflow_url, "--cache-dir", str(model_cache),
        "--threads", "1", "--json",
    ]  # fmt: skip
    return CliRunner().invoke(cli, argv)


def test_a_truly_better_challenger_passes_and_its_version_carries_the_figures(
    tuned: dict[str, Any], mlflow_url: str, model_cache: Path, tmp_path: Path
) -> None:
    name = tuned["name"]
    result = _eval(
        mlflow_url, model_cache,
        "--model", f"models:/{name}/1", "--against", "bundled:smollm2",
        "--suite", str(tuned["suite"]), "--output", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    answer = orjson.loads(result.stdout)
    pairwise = answer["pairwise"]
    assert pairwise["wins"] >= 5 and pairwise["losses"] == 0, answer
    assert pairwise["p_value"] <= 0.05 and pairwise["ci_low"] > 0.5
    assert [g["passed"] for g in answer["gates"]] == [True, True]
    assert answer["metrics"]["eval.facts.contains.delta"] > 0

    version = tuned["registry"].version(name, "1")
    assert float(version.tags["eval.facts.win_rate"]) == pairwise["win_rate"]
    assert version.tags["eval.facts.against"] == "bundled:smollm2"
    run_id = version.tags["eval.facts.run_id"]
    client = MlflowClient(mlflow_url)
    run = client.get_run(run_id)
    assert run.data.metrics["eval.facts.p_value"] == pairwise["p_value"]
    assert "against.eval.facts.contains" in run.data.metrics
    artifacts = {f.path for f in client.list_artifacts(run_id)}
    assert {"report.md", "results.json", "examples.json"} <= artifacts
    report = Path(client.download_artifacts(run_id, "report.md", str(tmp_path)))
    assert "## Examples, failures first" in report.read_text()
    assert (tmp_path / "out" / "report.md").read_text() == report.read_text()

    # The gates a CI job names read the tags: the first version has no champion to beat.
    promoted = CliRunner().invoke(
        cli,
        [
            "models", "promote", name, "--version", "1", "--to", "champion",
            "--tracking-uri", mlflow_url, "--json",
            *[arg for gate in GATES for arg in ("--gate", gate)],
        ],
    )  # fmt: skip
    assert promoted.exit_code == 0, promoted.output


def test_the_same_weights_again_are_refused_by_the_eval_and_by_promotion(
    tuned: dict[str, Any], mlflow_url: str, model_cache: Path, finetuned: dict[str, Any]
) -> None:
    name, registry = tuned["name"], tuned["registry"]
    if registry.by_alias(name, "champion") is None:
        pytest.skip("needs the champion the previous test promotes")
    twin = registry.register(name, run_id=finetuned["run_id"], tags={"base": "bundled:smollm2"})
    result = _eval(
        mlflow_url, model_cache,
        "--model", f"models:/{name}/{twin.version}", "--against", f"models:/{name}@champion",
        "--suite", str(tuned["suite"]),
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    answer = orjson.loads(result.stdout)
    assert answer["pairwise"]["wins"] == answer["pairwise"]["losses"] == 0
    assert answer["pairwise"]["p_value"] == 1.0
    tags = registry.version(name, twin.version).tags
    assert tags["eval.facts.against"] == f"models:/{name}/1"

    refused = CliRunner().invoke(
        cli,
        [
            "models", "promote", name, "--version", twin.version, "--to", "champion",
            "--tracking-uri", mlflow_url, "--json",
            *[arg for gate in GATES for arg in ("--gate", gate)],
        ],
    )  # fmt: skip
    assert refused.exit_code == 3, refused.output
    verdict = orjson.loads(refused.stdout)
    assert not verdict["promoted"]
    assert [g["passed"] for g in verdict["gates"]] == [False, False]


def test_an_invalid_suite_is_a_usage_error(tmp_path: Path, mlflow_url: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndatasets: [missing.jsonl]\nscorers: [{kind: rouge_l}]\n")
    result = CliRunner().invoke(
        cli, ["eval", "run", "--model", "bundled:smollm2", "--suite", str(bad)]
    )
    assert result.exit_code == 2
    assert "missing.jsonl: cannot read" in result.output
