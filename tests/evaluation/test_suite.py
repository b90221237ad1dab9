"""Suite files are checked strictly: every bad field and every bad dataset line is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from llmops.evaluation import suite as suites
from llmops.evaluation.errors import SuiteError


def _write(tmp_path: Path, suite: dict[str, object], lines: list[object] | None = None) -> Path:
    data = tmp_path / "data.jsonl"
    rows = lines if lines is not None else [{"prompt": "hi", "reference": "hello"}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump({"datasets": ["data.jsonl"], **suite}))
    return path


def test_a_valid_suite_loads_with_default_scorer_names_and_a_stable_hash(tmp_path: Path) -> None:
    path = _write(tmp_path, {"name": "support", "scorers": [{"kind": "rouge_l"}]})
    loaded = suites.load(path)
    assert [s.name for s in loaded.suite.scorers] == ["rouge_l"]
    assert loaded.examples[0].messages == ({"role": "user", "content": "hi"},)
    assert loaded.examples[0].source.endswith("data.jsonl:1")
    assert suites.load(path).sha256 == loaded.sha256


def test_every_bad_field_is_named(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "name": "Bad Name",
            "colour": "blue",
            "generation": {"max_tokens": 0},
            "scorers": [{"kind": "regex", "pattern": "("}, {"kind": "teleport"}],
        },
    )
    with pytest.raises(SuiteError) as caught:
        suites.load(path)
    message = str(caught.value)
    for place in ("name", "colour", "generation.max_tokens", "scorers.0.regex", "scorers.1"):
        assert place in message, message


def test_a_judge_scorer_needs_a_judge_and_pairwise_names_a_scorer(tmp_path: Path) -> None:
    path = _write(tmp_path, {"name": "s", "scorers": [{"kind": "judge", "rubric": "good?"}]})
    with pytest.raises(SuiteError, match="needs a 'judge' section"):
        suites.load(path)
    path = _write(
        tmp_path, {"name": "s", "scorers": [{"kind": "rouge_l"}], "pairwise": {"by": "bleu"}}
    )
    with pytest.raises(SuiteError, match=r"pairwise\.by 'bleu'"):
        suites.load(path)


def test_bad_gates_schemas_and_duplicate_names_are_refused(tmp_path: Path) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"gates": ["eval.s.win_rate >> 1"]}, "is not 'METRIC OP"),
        (
            {"scorers": [{"kind": "json_schema", "schema": {"type": "nothing"}}]},
            "valid JSON Schema",
        ),
        ({"scorers": [{"kind": "rouge_l"}, {"kind": "rouge_l"}]}, "unique"),
        ({"scorers": [{"kind": "length", "min": 5, "max": 2}]}, "at least min"),
    ]
    for extra, expected in cases:
        path = _write(tmp_path, {"name": "s", "scorers": [{"kind": "pii_free"}], **extra})
        with pytest.raises(SuiteError, match=expected):
            suites.load(path)


def test_each_bad_dataset_line_is_named_with_its_line(tmp_path: Path) -> None:
    lines: list[object] = [
        {"prompt": "fine"},
        {"prompt": "", "reference": "x"},
        {"messages": [{"role": "assistant", "content": "answer"}]},
        {"prompt": "a", "messages": []},
        {"prompt": "a", "expectations": {"refuse": "yes"}},
        {"prompt": "a", "expectations": {"sparkle": True}},
        {"prompt": "a", "colour": 1},
    ]
    path = _write(tmp_path, {"name": "s", "scorers": [{"kind": "pii_free"}]}, lines)
    with open(tmp_path / "data.jsonl", "a") as f:
        f.write("{not json\n")
    with pytest.raises(SuiteError) as caught:
        suites.load(path)
    message = str(caught.value)
    for line in range(2, 9):
        assert f"data.jsonl:{line}:" in message, message
    assert "data.jsonl:1:" not in message


def test_the_judge_can_be_pointed_elsewhere_without_editing_the_suite() -> None:
    loaded = suites.with_judge(suites.load(suites.EXAMPLE), "http://judge:9/v1", "big")
    assert loaded.suite.judge is not None
    assert (loaded.suite.judge.base_url, loaded.suite.judge.model) == ("http://judge:9/v1", "big")
    with pytest.raises(SuiteError, match="base_url"):
        suites.with_judge(loaded, "ftp://nowhere", None)


def test_held_out_preference_pairs_are_examples_with_their_chosen_answer_as_reference(
    tmp_path: Path,
) -> None:
    lines: list[object] = [
        {"prompt": "q?", "chosen": "good", "rejected": "bad", "subjects": ["team:t"]},
        {"prompt": "q?", "chosen": "only one side"},
    ]
    path = _write(tmp_path, {"name": "s", "scorers": [{"kind": "preference"}]}, lines)
    with pytest.raises(SuiteError, match=r"data\.jsonl:2: a preference pair needs both"):
        suites.load(path)
    path = _write(tmp_path, {"name": "s", "scorers": [{"kind": "preference"}]}, lines[:1])
    (example,) = suites.load(path).examples
    assert (example.reference, example.rejected) == ("good", "bad")
