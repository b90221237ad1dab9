"""Datasets are checked before any compute, and every problem names its file and line."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmops.cli.main import cli
from llmops.training import dataset
from llmops.training.errors import DatasetError
from tests.support.finetuning import conversation, write_jsonl


def test_every_bad_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    good = json.dumps(conversation("q?", "a"))
    path.write_text(
        "\n".join(
            [
                good,
                "{not json",
                json.dumps({"messages": [{"role": "user", "content": "only a question"}]}),
                "",
                json.dumps({"messages": [{"role": "robot", "content": "x"}]}),
                json.dumps({"text": "plain"}),
                json.dumps({"messages": [{"role": "assistant", "content": "no question"}]}),
                good,
            ]
        )
    )
    with pytest.raises(DatasetError) as caught:
        dataset.load([path])
    message = str(caught.value)
    assert "5 problems" in message
    for line, words in [
        (2, "not valid JSON"),
        (3, "last message must be the assistant"),
        (5, "role 'robot'"),
        (6, '"messages"'),
        (7, "needs a user message"),
    ]:
        assert f"{path}:{line}: " in message and words in message
    assert f"{path}:1:" not in message and f"{path}:8:" not in message


def test_files_are_concatenated_and_hashed_in_order(tmp_path: Path) -> None:
    first = write_jsonl(tmp_path / "a.jsonl", [conversation("one?", "1")])
    second = write_jsonl(tmp_path / "b.jsonl", [conversation("two?", "2"), conversation("3?", "3")])
    loaded = dataset.load([first, second])
    assert [r.answer for r in loaded.rows] == ["1", "2", "3"]
    assert loaded.rows[1].source == f"{second}:1"
    expected = hashlib.sha256(first.read_bytes() + second.read_bytes()).hexdigest()
    assert loaded.sha256 == expected
    assert dataset.load([second, first]).sha256 != expected


def test_without_an_eval_file_every_tenth_row_is_held_out(tmp_path: Path) -> None:
    rows = [conversation(f"q{i}?", str(i)) for i in range(20)]
    train, held = dataset.split_holdout(dataset.load([write_jsonl(tmp_path / "d.jsonl", rows)]))
    assert [r.answer for r in held.rows] == ["9", "19"]
    assert len(train) == 18


def test_the_cli_refuses_a_bad_dataset_with_exit_2_before_loading_a_model(tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps(conversation("q?", "a")) + "\n{oops\n")
    result = CliRunner().invoke(
        cli,
        [
            "finetune", "run", "--data", str(data), "--register", "bot",
            "--tracking-uri", "http://127.0.0.1:9", "--cache-dir", str(tmp_path / "none"),
        ],
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"{data}:2: not valid JSON" in result.output
    assert not (tmp_path / "none").exists()  # nothing was converted or downloaded


def test_the_cli_needs_a_tracking_uri(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", [conversation("q?", "a")])
    result = CliRunner().invoke(
        cli,
        ["finetune", "run", "--data", str(data), "--register", "bot"],
        env={"MLFLOW_TRACKING_URI": "", "LLMOPS_MLFLOW__TRACKING_URI": ""},
    )
    assert result.exit_code == 2
    assert "tracking URI" in result.output
