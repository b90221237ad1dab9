"""The ``dpo`` recipe: preference pairs checked line by line, and a real run on a few pairs
that moves the implicit reward margin the right way."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from llmops.cli.main import cli
from llmops.training import preferences
from llmops.training.errors import DatasetError
from tests.support.finetuning import FACTS, SYSTEM, finetune_args, write_jsonl

REFUSALS = ("I don't know.", "I cannot say.")


def pair(question: str, chosen: str, rejected: str) -> dict[str, Any]:
    return {
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
        "chosen": chosen,
        "rejected": rejected,
    }


def test_bad_pairs_are_named_with_their_lines(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "pairs.jsonl",
        [
            pair("q?", "yes", "no"),
            {"prompt": "q?", "chosen": "same", "rejected": " same "},
            {"prompt": "q?", "chosen": "a"},
            {"messages": [{"role": "assistant", "content": "a"}], "chosen": "b", "rejected": "c"},
            {"prompt": "q?", "chosen": "a", "rejected": "b", "colour": "red"},
            {"prompt": "", "chosen": "a", "rejected": "b"},
        ],
    )
    with path.open("a") as f:
        f.write("{broken\n")
    with pytest.raises(DatasetError) as caught:
        preferences.load([path])
    message = str(caught.value)
    assert "6 problems" in message
    for line in range(2, 8):
        assert f"pairs.jsonl:{line}:" in message, message
    assert "the same answer" in message and "unknown fields: colour" in message


def test_without_an_eval_file_a_few_pairs_still_hold_one_out(tmp_path: Path) -> None:
    """Eight pairs (the feedback loop's least) keep one to judge the model on."""
    rows = [pair(f"q{i}?", f"yes {i}", f"no {i}") for i in range(8)]
    train, held = preferences.split_holdout(
        preferences.load([write_jsonl(tmp_path / "p.jsonl", rows)])
    )
    assert [p.chosen for p in held.pairs] == ["yes 7"] and len(train) == 7
    rows = [pair(f"q{i}?", f"yes {i}", f"no {i}") for i in range(20)]
    train, held = preferences.split_holdout(
        preferences.load([write_jsonl(tmp_path / "q.jsonl", rows)])
    )
    assert [p.chosen for p in held.pairs] == ["yes 9", "yes 19"] and len(train) == 18


def test_dpo_on_a_few_pairs_moves_the_reward_margin_the_right_way(
    mlflow_url: str, model_cache: Path, tmp_path: Path
) -> None:
    train = write_jsonl(
        tmp_path / "pairs.jsonl",
        [pair(q, a, refusal) for q, a in FACTS for refusal in REFUSALS],
    )
    held_out = write_jsonl(
        tmp_path / "held-out.jsonl", [pair(q, a, "Nobody knows that.") for q, a in FACTS]
    )
    args = finetune_args(
        train, held_out, register="facts-dpo", output=tmp_path / "out",
        cache_dir=model_cache, tracking_uri=mlflow_url, max_steps=6,
        extra=["--recipe", "dpo", "--beta", "0.1"],
    )  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    answer = orjson.loads(result.stdout)
    metrics = answer["metrics"]
    # A fresh adapter has margin 0 exactly; six steps on the pairs push the chosen answers up.
    assert metrics["reward_margin"] > 0, metrics
    assert metrics["reward_accuracy"] >= 0.75, metrics
    version = MlflowClient(mlflow_url).get_model_version("facts-dpo", answer["version"])
    assert version.tags["recipe"] == "dpo"
    assert version.tags["pairs_count"] == "8"
    assert version.tags["pairs_sha256"] == hashlib.sha256(train.read_bytes()).hexdigest()
    assert float(version.tags["reward_margin"]) == metrics["reward_margin"]


def test_dpo_refuses_chat_data_as_a_usage_error(tmp_path: Path, mlflow_url: str) -> None:
    chat = write_jsonl(
        tmp_path / "chat.jsonl",
        [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}],
    )
    result = CliRunner().invoke(
        cli,
        [
            "finetune", "run", "--recipe", "dpo", "--data", str(chat), "--register", "x",
            "--tracking-uri", mlflow_url,
        ],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "chat.jsonl:1: the last message is the assistant's" in result.output
