"""Pure pieces of the request path, on plain data."""

from __future__ import annotations

from typing import Any

from gateway import sse, tokens
from gateway.usage import StreamTally


def test_event_splitter_handles_events_split_across_chunks() -> None:
    splitter = sse.EventSplitter()
    assert list(splitter.feed(b'data: {"a"')) == []
    assert list(splitter.feed(b": 1}\n\ndata: [DO")) == [b'data: {"a": 1}\n\n']
    assert list(splitter.feed(b"NE]\r\n\r\n")) == [b"data: [DONE]\n\n"]
    assert splitter.rest() == b""


def test_stream_tally_holds_back_the_usage_chunk_unless_asked() -> None:
    content = sse.chunk_of(b'data: {"choices": [{"delta": {"content": "hi"}}]}\n\n')
    usage = sse.chunk_of(
        b'data: {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}\n\n'
    )
    hidden = StreamTally(relay_usage=False)
    assert hidden.passes(content) and not hidden.passes(usage)
    assert hidden.final_usage(99).total == 4
    shown = StreamTally(relay_usage=True)
    assert shown.passes(content) and shown.passes(usage)
    cut = StreamTally(relay_usage=False)
    cut.passes(content)
    cut.passes(content)
    assert (cut.final_usage(7).prompt, cut.final_usage(7).completion) == (7, 2)


def test_token_estimates() -> None:
    counter = tokens.EstimatedCounter()
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "12345678"},
        {"role": "user", "content": [{"type": "text", "text": "abcd"}]},
    ]
    assert tokens.chat_prompt_tokens(messages, counter) == 3 + (4 + 2) + (4 + 1)
    assert tokens.input_tokens([1, 2, 3], counter) == 3
    assert tokens.input_tokens(["abcd", "abcdefgh"], counter) == 3
