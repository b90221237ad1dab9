"""Token ids to text: whole characters only, stop strings cut out even across tokens."""

from __future__ import annotations

import pytest

from llmops.serving.textstream import IncrementalDecoder, StopStrings, TextStream


# A byte-level vocabulary: each token id is one byte, as byte-level BPE may split a character.
def byte_decode(ids: list[int]) -> str:
    return bytes(ids).decode("utf-8", errors="replace")


def push_all(stream: TextStream | IncrementalDecoder, text: str) -> list[str]:
    return [stream.push(b) for b in text.encode()]


def test_multibyte_characters_are_released_whole() -> None:
    deltas = push_all(IncrementalDecoder(byte_decode), "a€b")
    assert deltas == ["a", "", "", "€", "b"]


def test_stop_string_across_tokens_is_cut() -> None:
    stream = TextStream(byte_decode, ["STOP"])
    out = "".join(push_all(stream, "abcSTOPdef"))
    assert out == "abc"
    assert stream.stopped


def test_held_back_text_is_released_when_it_is_not_a_stop() -> None:
    stream = TextStream(byte_decode, ["STOP"])
    deltas = push_all(stream, "xST")
    assert "".join(deltas) == "x"  # "ST" could begin "STOP"
    assert stream.push(ord("x")) == "STx"
    assert not stream.stopped


def test_flush_releases_what_is_held() -> None:
    stream = TextStream(byte_decode, ["STOP"])
    assert "".join(push_all(stream, "aSTO")) == "a"
    assert stream.flush() == "STO"


@pytest.mark.parametrize(
    ("stops", "pieces", "released"),
    [
        (["\n\n"], ["one\n", "\ntwo"], "one"),
        (["b", "abc"], ["xab"], "xa"),
        (["end"], ["the e", "nd"], "the "),
        ([], ["anything"], "anything"),
    ],
)
def test_stop_strings(stops: list[str], pieces: list[str], released: str) -> None:
    matcher = StopStrings(stops)
    assert "".join(matcher.feed(p) for p in pieces) == released
