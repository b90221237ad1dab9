"""The judge: rewordings with other words are served, what the rules know stays refused,
and the near-misses the rules refuse for other words are refused by the model too."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import orjson
import pytest
import wordfreq

from gateway.cache import judge, reading
from gateway.cache.embedding import MINILM_DIMENSIONS, BatchingEmbedder, Encode
from gateway.cache.memory import MemoryCacheStore
from gateway.cache.service import ResponseCache, Result
from gateway.cache.verifier import difference
from gateway.metrics import GatewayMetrics
from gateway.openai_schema import Endpoint, ParsedRequest, parse
from gateway.settings import CacheSettings
from llmops import sentences
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


@pytest.mark.parametrize(
    ("cached", "query"),
    OTHER_WORDS + [pair for pair in NEAR_MISSES if pair not in KNOWN_TO_PASS],
)
def test_another_question_in_other_words_and_the_rules_near_misses_are_refused(
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


@pytest.mark.parametrize(
    ("cached", "query"),
    [
        (
            "What temperature should chicken breast be cooked to?",
            "Sorry if this is a dumb question, but what temperature should chicken breast be cooked to?",
        ),
        (
            "How do I tie a bowline knot?",
            "Hello! Hope you are well. How do I tie a bowline knot? Cheers",
        ),
        ("What is the best time to visit Iceland?", "When is the best time to go to Iceland?"),
    ],
)
def test_greetings_opening_a_sentence_and_a_question_without_question_word_go_to_the_model(
    cached: str, query: str
) -> None:
    assert difference(query, cached) is not None
    assert judge.opening(query, cached) is not None


def test_a_capital_that_only_opens_a_sentence_is_no_name() -> None:
    read = reading.language_of("en").read
    names = [
        t.surface for t in read("Hello! Hope you are well. Is SSH on GitHub?").tokens if t.name
    ]
    assert names == ["ssh", "github"]
    names = [t.surface for t in read("Paris or Lyon? I prefer Paris.").tokens if t.name]
    assert names == ["paris", "lyon", "paris"]


def test_question_words_say_what_kind_of_answer_is_asked() -> None:
    assert judge.asks("When was Hamlet written?", "en") == {"when"}
    assert judge.asks("How many moons has Mars?", "en") == {"amount"}
    assert judge.asks("Où est la gare, ou bien l'arrêt ?", "fr") == {"where"}
    assert judge.asks("¿Por qué el cielo es azul?", "es") == {"why"}
    assert judge.asks("Wie viele Einwohner hat Berlin?", "de") == {"amount"}
    assert judge.asks("How do I boil an egg?", "en") == {"manner"}
    assert judge.asks("What is the best way to boil an egg?", "en") == frozenset()


async def test_the_judges_texts_are_forgotten_on_erasure(
    shared_judge: judge.Judge, minilm: Encode
) -> None:
    cache = ResponseCache(
        settings=CacheSettings(enabled=True, max_wrong_rate=None),
        store=MemoryCacheStore(
            dimensions=MINILM_DIMENSIONS, max_bytes=1 << 24, max_entries_per_namespace=100
        ),
        embedder=BatchingEmbedder(minilm, dimensions=MINILM_DIMENSIONS),
        metrics=GatewayMetrics(),
    )
    await cache.start()
    text = "Quelle est la capitale du Pérou, demande Jeanne Dupont ?"
    shared_judge.encoder.vectors([text])
    shared_judge.encoder.words([text])
    judge._zipf("dupont", "fr")
    assert text in shared_judge.encoder._kept and text in shared_judge.encoder._words
    await cache.forget("user:jeanne")
    assert text not in shared_judge.encoder._kept and text not in shared_judge.encoder._words
    assert judge._zipf.cache_info().currsize == 0
    assert not any("dupont" in str(key) for key in wordfreq._wf_cache)
    await cache.close()


def test_a_vector_computed_across_an_erasure_is_not_kept(shared_judge: judge.Judge) -> None:
    encoder = shared_judge.encoder
    text = "Wie alt ist Erika Mustermann aus Köln?"
    computing = encoder._model.encode

    def erased_meanwhile(texts: list[str]) -> Any:
        encoder.forget()  # an erasure while the lookup computes
        return computing(texts)

    encoder._model.encode = erased_meanwhile
    try:
        (vector,) = encoder.vectors([text])
    finally:
        del encoder._model.encode
    assert vector.shape == (512,)
    assert text not in encoder._kept


def test_a_question_is_read_word_by_word_once_for_all_its_candidates(
    shared_judge: judge.Judge, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[list[str]] = []
    words_of = sentences.words_of

    def counted(texts: list[str]) -> list[sentences.Words]:
        read.append(list(texts))
        return words_of(texts)

    monkeypatch.setattr(sentences, "words_of", counted)
    query = "comment changer le mot de passe de ma box internet ?"
    for cached in (
        "comment modifier le mot de passe de ma box ?",
        "comment changer le code wifi de ma box internet ?",
    ):
        shared_judge.score(query, cached, 0.8)
    assert sum(query in texts for texts in read) == 1


def test_a_pair_longer_than_any_learned_from_is_refused(
    shared_judge: judge.Judge, minilm: Encode
) -> None:
    context = (
        "I run a small bakery with three ovens, two of them gas and one electric, and "
        "we open at six every morning except Sundays when we bake for the market. "
    )
    cached = context + "Who wrote Hamlet?"
    query = context + "Who is the author of Hamlet?"
    assert difference(query, cached) is not None
    assert shared_judge.score(query, cached, similarity(minilm, query, cached)) is None
    assert shared_judge.score("Who is the author of Hamlet?", "Who wrote Hamlet?", 0.8)


def test_texts_are_read_alike_from_several_threads() -> None:
    words = [f"{w}{s}" for w in ("connect", "travail", "cuenta", "arbeit") for s in "sers"] * 50
    language = reading.language_of("fr")
    alone = [language.stem(w) for w in words]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda _: [language.stem(w) for w in words], range(8)))
    assert all(stems == alone for stems in together)


def test_the_model_file_matches_the_features() -> None:
    trees = judge.Judge.load()
    assert trees is not None
    assert 0.5 < trees.trees.threshold < 1.0
    with pytest.raises(ValueError, match="other features"):
        judge.Trees({"features": ["use"], "baseline": 0.0, "threshold": 0.9, "trees": []})


async def test_a_failing_judge_makes_a_miss_not_an_error(
    shared_judge: judge.Judge, minilm: Encode, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics = GatewayMetrics()
    cache = ResponseCache(
        settings=CacheSettings(enabled=True, max_wrong_rate=None),
        store=MemoryCacheStore(
            dimensions=MINILM_DIMENSIONS, max_bytes=1 << 24, max_entries_per_namespace=100
        ),
        embedder=BatchingEmbedder(minilm, dimensions=MINILM_DIMENSIONS),
        metrics=metrics,
    )
    await cache.start()

    def ask(text: str) -> ParsedRequest:
        body = {"model": "m", "messages": [{"role": "user", "content": text}], "temperature": 0}
        return parse(Endpoint.CHAT, orjson.dumps(body))

    first = await cache.lookup(ask("Who wrote Hamlet?"), team="t", version="1", headers={})
    answer = b'{"choices":[{"index":0,"message":{"role":"assistant","content":"Shakespeare"}}]}'
    cache.store(
        first, response=answer, stream=False, version="1", reported="1", team="t", subjects=()
    )
    await cache.drain()
    reworded = ask("Who is the author of Hamlet?")
    assert (await cache.lookup(reworded, team="t", version="1", headers={})).result is Result.HIT

    def broken(*args: Any) -> float:
        raise RuntimeError("the judge broke")

    monkeypatch.setattr(shared_judge, "score", broken)
    assert (await cache.lookup(reworded, team="t", version="1", headers={})).result is Result.MISS
    errors = metrics.registry.get_sample_value("llmops_cache_judged_total", {"outcome": "error"})
    assert errors == 1
    await cache.close()
