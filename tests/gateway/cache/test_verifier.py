"""The verifier refuses near-matches an embedding blurs, and lets rewordings through."""

from __future__ import annotations

import pytest

from gateway.cache.verifier import Difference, difference


@pytest.mark.parametrize(
    ("cached", "query", "expected"),
    [
        ("Is it safe to eat raw eggs?", "Is it not safe to eat raw eggs?", Difference.NEGATION),
        ("Why can dogs eat grapes?", "Why can't dogs eat grapes?", Difference.NEGATION),
        ("Is this mushroom edible?", "Is this mushroom inedible?", Difference.NEGATION),
        ("Is the bridge safe?", "Is the bridge unsafe?", Difference.NEGATION),
        ("Convert 5 miles to km.", "Convert 50 miles to km.", Difference.NUMBER),
        ("Convert 1,000 miles to km.", "Convert 100 miles to km.", Difference.NUMBER),
        ("Give me three ideas.", "Give me four ideas.", Difference.NUMBER),
        (
            "What is the second tallest building?",
            "What is the tallest building?",
            Difference.NUMBER,
        ),
        ("What is the capital of France?", "What is the capital of Spain?", Difference.ENTITY),
        ("Who founded Apple?", "Who founded Microsoft?", Difference.ENTITY),
        (
            "What is the weather in Paris on Monday?",
            "What is the weather in Paris on Friday?",
            Difference.DATE,
        ),
        ("Will it rain today?", "Will it rain tomorrow?", Difference.DATE),
        ("What happened in March 1969?", "What happened in July 1969?", Difference.DATE),
        (
            "How do I center a div horizontally?",
            "How do I center a div vertically?",
            Difference.TERM,
        ),
        (
            "What is the population of Tokyo?",
            "What is the population density of Tokyo?",
            Difference.TERM,
        ),
        (
            "How long is the flight from London to Paris?",
            "How long is the flight from Paris to London?",
            Difference.ENTITY,
        ),
        (
            "How do I convert a string to an integer?",
            "How do I convert an integer to a string?",
            Difference.TERM,
        ),
    ],
)
def test_near_misses_are_refused(cached: str, query: str, expected: Difference) -> None:
    assert difference(query, cached) is expected
    assert difference(cached, query) is expected


@pytest.mark.parametrize(
    ("cached", "query"),
    [
        ("How do I reverse a list in Python?", "In Python, how do you reverse a list?"),
        ("What is the capital of Australia?", "What's Australia's capital city?"),
        ("How many days are there in a leap year?", "A leap year has how many days?"),
        ("Convert 5 miles to kilometers.", "How many kilometers are in 5 miles?"),
        ("Is the Louvre open on Tuesday?", "Is the Louvre open on Tuesdays?"),
        ("what is the capital of france?", "What is the capital of France?"),
        ("Is it safe to take ibuprofen with coffee?", "Can I safely take ibuprofen with coffee?"),
        ("Multiply 12 by 7.", "What is 12 multiplied by 7?"),
        ("Explain how photosynthesis works.", "How does photosynthesis work?"),
    ],
)
def test_rewordings_pass(cached: str, query: str) -> None:
    assert difference(query, cached) is None


@pytest.mark.parametrize(
    ("cached", "query"),
    [
        ("Who wrote War and Peace?", "Who is the author of War and Peace?"),
        ("Who wrote Hamlet?", "Hamlet was written by whom?"),
        ("Who wrote Hamlet?", "Who's the writer of Hamlet?"),
        ("What are the symptoms of the flu?", "What are the signs of the flu?"),
        ("How tall is the Eiffel Tower?", "What is the height of the Eiffel Tower?"),
        ("How old must you be to vote in Canada?", "What age must you be to vote in Canada?"),
        ("How do I delete a branch in git?", "How do I remove a branch in git?"),
        ("How do I turn a list into a tuple?", "How do I convert a list into a tuple?"),
        ("What is the difference between TCP and UDP?", "How is TCP different from UDP?"),
        ("What makes leaves green?", "Why do leaves look green?"),
    ],
)
def test_synonyms_and_word_forms_pass(cached: str, query: str) -> None:
    assert difference(query, cached) is None
    assert difference(cached, query) is None


@pytest.mark.parametrize(
    ("cached", "query"),
    [
        ("How do I increase my credit score?", "How do I decrease my credit score?"),
        ("Is it a good time to buy a house?", "Is it a good time to sell a house?"),
        ("Is it a good time to purchase a house?", "Is it a good time to sell a house?"),
        ("What is the height of a kitchen door?", "What is the width of a kitchen door?"),
        ("How do I open a file in Python?", "How do I create a file in Python?"),
        ("How do I start a Docker container?", "How do I stop a Docker container?"),
        ("Who wrote Hamlet?", "When was Hamlet written?"),
        ("Where was Mozart born?", "When was Mozart born?"),
        ("Why did the Roman Empire fall?", "How did the Roman Empire fall?"),
    ],
)
def test_antonyms_neighbours_and_other_questions_are_refused(cached: str, query: str) -> None:
    assert difference(query, cached) is Difference.TERM
    assert difference(cached, query) is Difference.TERM
