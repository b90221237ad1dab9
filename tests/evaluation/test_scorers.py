"""Each scorer on tiny data: what it gives a good answer, a bad one, and a line it does not
apply to."""

from __future__ import annotations

from typing import Any

import pytest

from llmops.evaluation import rules
from llmops.evaluation import suite as suites
from llmops.evaluation.runner import Runner
from llmops.evaluation.suite import Contains, Example, JsonSchema, Length, Refusal, Regex


def example(reference: str | None = None, **expectations: Any) -> Example:
    return Example(
        messages=({"role": "user", "content": "q"},),
        reference=reference,
        expectations=expectations,
    )


def test_contains_and_not_contains_read_their_values_or_the_lines() -> None:
    scorer = Contains(kind="contains", values=["Paris", "France"])
    assert rules.contains(scorer, example(), "paris is in france") == 1.0
    assert rules.contains(scorer, example(), "Paris") == 0.0
    anyone = Contains(kind="contains", values=["Paris", "Lyon"], mode="any")
    assert rules.contains(anyone, example(), "Lyon") == 1.0
    per_line = Contains(kind="contains")
    assert rules.contains(per_line, example(contains=["Tokyo"]), "It is Tokyo.") == 1.0
    assert rules.contains(per_line, example(), "anything") is None
    banned = Contains(kind="not_contains", values=["stupid", "idiot"])
    assert rules.contains(banned, example(), "a kind answer") == 1.0
    assert rules.contains(banned, example(), "a Stupid answer") == 0.0


def test_regex_matches_or_must_not() -> None:
    assert rules.regex(Regex(kind="regex", pattern=r"\b\d{4}\b"), example(), "in 1998") == 1.0
    never = Regex(kind="regex", pattern=r"(?i)as an ai", must_match=False)
    assert rules.regex(never, example(), "As an AI, I think") == 0.0
    assert rules.regex(Regex(kind="regex"), example(regex="^ok"), "ok then") == 1.0
    assert rules.regex(Regex(kind="regex"), example(), "ok") is None


def test_json_schema_accepts_fenced_json_and_refuses_prose() -> None:
    scorer = JsonSchema.model_validate(
        {
            "kind": "json_schema",
            "schema": {
                "type": "object",
                "required": ["city"],
                "properties": {"city": {"type": "string"}},
            },
        }
    )
    assert rules.json_schema(scorer, example(), '{"city": "Paris"}') == 1.0
    assert rules.json_schema(scorer, example(), '```json\n{"city": "Paris"}\n```') == 1.0
    assert rules.json_schema(scorer, example(), '{"town": "Paris"}') == 0.0
    assert rules.json_schema(scorer, example(), "The city is Paris.") == 0.0


def test_length_bounds_in_words_or_characters() -> None:
    words = Length(kind="length", min=2, max=4)
    assert rules.length(words, example(), "one two three") == 1.0
    assert rules.length(words, example(), "one") == 0.0
    assert rules.length(words, example(), "one two three four five") == 0.0
    chars = Length(kind="length", unit="chars", max=5)
    assert rules.length(chars, example(), "short") == 1.0
    assert rules.length(chars, example(), "longer") == 0.0


@pytest.mark.parametrize(
    "answer",
    [
        "I'm sorry, but I can't help with that.",
        "I cannot assist with breaking into a house.",
        "Désolé, mais je ne peux pas vous aider avec cela.",
        "Lo siento, pero no puedo ayudar con eso.",
        "Es tut mir leid, aber dabei kann ich nicht helfen.",
    ],
)
def test_refusals_are_recognized_in_several_languages(answer: str) -> None:
    assert rules.refuses(answer)
    assert rules.refusal(Refusal(kind="refusal"), example(refuse=True), answer) == 1.0
    assert rules.refusal(Refusal(kind="refusal"), example(), answer) == 0.0


def test_an_answer_is_not_a_refusal() -> None:
    answer = "The capital of France is Paris. I can tell you more about it if you like."
    assert not rules.refuses(answer)
    assert rules.refusal(Refusal(kind="refusal", expect="answer"), example(), answer) == 1.0


def test_pii_free_uses_the_request_logs_recognizers() -> None:
    assert rules.pii_free(None, example(), "Write to us through the contact form.") == 1.0
    assert rules.pii_free(None, example(), "Write to jane.doe@example.com today.") == 0.0
    assert rules.pii_free(None, example(), "Call +33 6 12 34 56 78 tomorrow.") == 0.0


def test_exact_match_ignores_case_and_punctuation() -> None:
    assert rules.exact_match(None, example("Paris."), "paris") == 1.0
    assert rules.exact_match(None, example("Paris"), "It is Paris") == 0.0
    assert rules.exact_match(None, example(), "Paris") is None


def test_rouge_l_is_the_f1_of_the_longest_common_subsequence() -> None:
    assert rules.rouge_l(None, example("the cat sat on the mat"), "the cat sat on the mat") == 1.0
    # LCS "the cat the mat" = 4 of 6 reference words and 4 of 5 answer words.
    score = rules.rouge_l(None, example("the cat sat on the mat"), "the cat ate the mat")
    assert score == pytest.approx(2 * (4 / 5) * (4 / 6) / (4 / 5 + 4 / 6))
    assert rules.rouge_l(None, example("alpha"), "beta") == 0.0
    assert rules.rouge_l(None, example(), "beta") is None


def test_embedding_similarity_scores_a_paraphrase_above_an_unrelated_answer() -> None:
    runner = Runner(suites.load(suites.EXAMPLE), environ={})
    runner.examples = [
        example("The capital of France is Paris."),
        example("The capital of France is Paris."),
        example(),
    ]
    close, far, none = runner.similarities(
        ["Paris is France's capital city.", "Bananas are rich in potassium.", "anything"]
    )
    assert close is not None and far is not None and none is None
    assert 0.0 <= far < close <= 1.0
    assert close > 0.7


def test_preference_prefers_the_answer_nearer_the_chosen_one() -> None:
    pair = Example(
        messages=({"role": "user", "content": "capital of France?"},),
        reference="The capital of France is Paris.",
        rejected="I do not know.",
    )
    assert rules.preference(None, pair, "Paris is the capital of France.") == 1.0
    assert rules.preference(None, pair, "I do not know, sorry.") == 0.0
    assert rules.preference(None, pair, "Bananas.") == 0.5
    assert rules.preference(None, example("no pair"), "Paris") is None
