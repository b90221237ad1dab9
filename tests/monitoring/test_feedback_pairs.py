"""Preference pairs from feedback, on plain data: corrections, then scores per prompt."""

from __future__ import annotations

from llmops.monitoring.feedback import Rated, pairs


def rated(prompt: str, completion: str, value: float, correction: str | None = None) -> Rated:
    return Rated("m", prompt, completion, value, correction, ("team:t",))


def test_corrections_and_opposite_scores_make_pairs_and_nothing_else_does() -> None:
    items = [
        rated("capital of France?", "Lyon", 0.0, correction="Paris"),
        rated("capital of France?", "Paris, of course", 1.0),
        rated("capital of France?", "Marseille", 0.25),
        rated("two plus two?", "4", 1.0),  # liked, nothing to prefer it to
        rated("two plus two?", "5", 0.5),  # neither good nor bad
        rated("same answer?", "x", 1.0, correction="x"),  # a correction that changes nothing
    ]
    lines, corrections = pairs(items)
    assert corrections == 1
    assert [(x["chosen"], x["rejected"]) for x in lines] == [
        ("Paris", "Lyon"),
        ("Paris, of course", "Lyon"),
        ("Paris, of course", "Marseille"),
    ]
    assert all(x["prompt"] == "capital of France?" for x in lines)


def test_answers_to_other_models_are_not_paired() -> None:
    good = Rated("a", "q", "right", 1.0, None, ())
    bad = Rated("b", "q", "wrong", 0.0, None, ())
    assert pairs([good, bad]) == ([], 0)
