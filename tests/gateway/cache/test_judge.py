"""The judge: rewordings with other words are served, what the rules know stays refused,
and the near-misses the rules refuse for other words are refused by the model too."""

from __future__ import annotations

import numpy as np
import pytest

from gateway.cache import judge
from gateway.cache.embedding import Encode
from gateway.cache.verifier import difference
from tests.gateway.cache.test_verifier import NEAR_MISSES

REWORDED = [
    ("Who wrote Hamlet?", "Who is the author of Hamlet?"),
    ("What is the capital of Australia?", "Which city is the capital of Australia?"),
    (
        "Comment inverser une liste en Python ?",
        "Quelle est la façon d'inverser une liste en Python ?",
    ),
    (
        "¿Cómo puedo invertir una lista en Python?",
        "¿Cuál es el método para dar la vuelta a una lista en Python?",
    ),
]
"""(cached, asked after it)."""
OTHER_WORDS = [
    ("How do I start a Docker container?", "How do I stop a Docker container?"),
    ("How do I open a file in Python?", "How do I delete a file in Python?"),
    ("What is the height of a kitchen door?", "What is the width of a kitchen door?"),
    ("How do I import a CSV into Excel?", "How do I export a CSV from Excel?"),
    ("What are the side effects of ibuprofen?", "What is the usual dose of ibuprofen?"),
    ("Wie melde ich mich beim Finanzamt an?", "Wie melde ich mich beim Finanzamt ab?"),
]
KNOWN_TO_PASS = {("What is the population of Tokyo?", "What is the population density of Tokyo?")}
"""A near-miss the model serves (one word narrows the question): the error bound's to catch."""


@pytest.fixture(scope="module")
def shared_judge() -> judge.Judge:
    found = judge.shared()
    assert found is not None, "the cache extra's sentence encoder is installed for the tests"
    return found


def similarity(minilm: Encode, a: str, b: str) -> float:
    vectors = minilm([a, b])
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return float(vectors[0] @ vectors[1])


@pytest.mark.parametrize(("cached", "query"), REWORDED)
def test_a_question_reworded_with_other_words_is_served(
    shared_judge: judge.Judge, minilm: Encode, cached: str, query: str
) -> None:
    assert difference(query, cached) is not None  # the rules alone refuse it
    assert shared_judge.same(query, cached, similarity(minilm, query, cached))


@pytest.mark.parametrize(("cached", "query"), OTHER_WORDS)
def test_a_question_asking_something_else_in_other_words_is_refused(
    shared_judge: judge.Judge, minilm: Encode, cached: str, query: str
) -> None:
    assert not shared_judge.same(query, cached, similarity(minilm, query, cached))
    assert not shared_judge.same(cached, query, similarity(minilm, query, cached))


@pytest.mark.parametrize(
    ("cached", "query"), [pair for pair in NEAR_MISSES if pair not in KNOWN_TO_PASS]
)
def test_the_rules_near_misses_stay_refused(
    shared_judge: judge.Judge, minilm: Encode, cached: str, query: str
) -> None:
    assert not shared_judge.same(query, cached, similarity(minilm, query, cached))
    assert not shared_judge.same(cached, query, similarity(minilm, query, cached))


@pytest.mark.parametrize(
    ("cached", "query"),
    [
        ("Is it safe to eat raw eggs?", "Is it not safe to eat raw eggs?"),
        ("Convert 5 miles to km.", "Convert 50 miles to km."),
        ("Do all birds fly?", "Do some birds fly?"),
        ("What happened in March 1969?", "What happened in July 1969?"),
        ("Who founded Apple?", "Who founded Microsoft?"),
        ("Who wrote Hamlet?", "When was Hamlet written?"),
        ("Why did the Roman Empire fall?", "How did the Roman Empire fall?"),
        ("which grains dont contain gluten", "Which grains contain gluten?"),
        ("Comment s'inscrire à Pôle emploi ?", "Comment se désinscrire de Pôle emploi ?"),
        ("Quels matchs passent ce week-end ?", "Quels matchs passent le week-end prochain ?"),
        ("Welche Zahlen sind durch 3 teilbar?", "Welche Zahlen sind mindestens durch 3 teilbar?"),
        ("Come posso invertire una lista?", "Come si inverte una lista?"),
    ],
)
def test_what_the_rules_know_is_not_asked_of_the_model(cached: str, query: str) -> None:
    assert judge.opening(query, cached) is None
    assert judge.opening(cached, query) is None


@pytest.mark.parametrize(
    ("cached", "query"),
    [
        (
            "How do I convert a list to a tuple in Python?",
            "hey, how do I convert a tuple to a list?",
        ),
        ("¿Cómo paso una lista a una tupla en Python?", "Hola, ¿cómo paso una tupla a una lista?"),
        (
            "Is it possible to get sunburned through a window?",
            "Is it impossible to get sunburned through a window?",
        ),
        ("How do I run a container as root?", "How do I run a container as a non-root user?"),
        ("Lohnt es sich, jetzt Gold zu kaufen?", "Lohnt es sich, jetzt Gold zu verkaufen?"),
    ],
)
def test_traded_roles_and_opposites_are_never_served(
    shared_judge: judge.Judge, minilm: Encode, cached: str, query: str
) -> None:
    assert shared_judge.score(query, cached, similarity(minilm, query, cached)) is None
    assert shared_judge.score(cached, query, similarity(minilm, query, cached)) is None


def test_question_words_say_what_kind_of_answer_is_asked() -> None:
    assert judge.asks("When was Hamlet written?", "en") == {"when"}
    assert judge.asks("How many moons has Mars?", "en") == {"amount"}
    assert judge.asks("Où est la gare, ou bien l'arrêt ?", "fr") == {"where"}
    assert judge.asks("¿Por qué el cielo es azul?", "es") == {"why"}
    assert judge.asks("Wie viele Einwohner hat Berlin?", "de") == {"amount"}
    assert judge.asks("How do I boil an egg?", "en") == frozenset()


def test_the_judges_texts_are_forgotten_on_erasure(shared_judge: judge.Judge) -> None:
    text = "Quelle est la capitale du Pérou, demande Jeanne Dupont ?"
    shared_judge.encoder.vectors([text])
    shared_judge.forget()
    assert text not in shared_judge.encoder._kept


def test_the_model_file_matches_the_features() -> None:
    trees = judge.Judge.load()
    assert trees is not None
    assert 0.5 < trees.trees.threshold < 1.0
    with pytest.raises(ValueError, match="other features"):
        judge.Trees({"features": ["use"], "baseline": 0.0, "threshold": 0.9, "trees": []})
