"""The CPU engine with the real bundled model: answers, limits, sampling, batching, cancellation."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any

import pytest

from llmops.serving.cpu import CpuEngine
from llmops.serving.engine import (
    ChatMessage,
    Completion,
    EngineStats,
    Finished,
    GenerationRequest,
    TextDelta,
    collect,
)
from llmops.serving.errors import InvalidGenerationRequest

CAPITAL = (ChatMessage("user", "What is the capital of France?"),)
STORY = (ChatMessage("user", "Write a long story about a lighthouse keeper and the sea."),)


def ask(messages: tuple[ChatMessage, ...] = CAPITAL, /, **options: Any) -> GenerationRequest:
    return GenerationRequest(messages=messages, **options)


async def wait_for(engine: CpuEngine, done: object, timeout: float = 30) -> EngineStats:
    """The engine's stats once ``done(stats)`` holds (the decode thread catches up)."""
    assert callable(done)
    for _ in range(int(timeout / 0.02)):
        stats = engine.stats()
        if done(stats):
            return stats
        await asyncio.sleep(0.02)
    raise AssertionError(f"engine never reached the state: {engine.stats()}")


async def test_greedy_answer(cpu_engine: CpuEngine) -> None:
    done = await collect(cpu_engine.generate(ask(temperature=0, max_tokens=32)))
    assert "Paris" in done.text
    assert done.finish_reason == "stop"  # the end-of-turn token, before max_tokens
    assert done.usage.completion_tokens < 32
    assert done.usage.prompt_tokens > 10
    assert "<|im_end|>" not in done.text


async def test_max_tokens_ends_with_length(cpu_engine: CpuEngine) -> None:
    done = await collect(cpu_engine.generate(ask(STORY, temperature=0, max_tokens=5)))
    assert done.finish_reason == "length"
    assert done.usage.completion_tokens == 5
    assert done.text


async def test_stop_string_is_cut_out(cpu_engine: CpuEngine) -> None:
    done = await collect(cpu_engine.generate(ask(temperature=0, max_tokens=32, stop=(" Paris",))))
    assert done.finish_reason == "stop"
    assert done.text == "The capital of France is"


async def test_raw_prompt(cpu_engine: CpuEngine) -> None:
    request = GenerationRequest(prompt="The capital of France is", temperature=0, max_tokens=3)
    done = await collect(cpu_engine.generate(request))
    assert "Paris" in done.text
    assert done.usage.completion_tokens == 3


async def test_seeded_sampling_repeats(cpu_engine: CpuEngine) -> None:
    request = ask(STORY, temperature=1.0, top_p=0.9, seed=1234, max_tokens=24)
    first = await collect(cpu_engine.generate(request))
    second = await collect(cpu_engine.generate(request))
    other = await collect(cpu_engine.generate(ask(STORY, temperature=1.0, seed=99, max_tokens=24)))
    assert first.text == second.text
    assert first.text != other.text


async def test_concurrent_requests_share_a_batch(cpu_engine: CpuEngine) -> None:
    before = cpu_engine.stats()
    requests = [ask(STORY, temperature=0, max_tokens=12) for _ in range(4)]
    alone = await collect(cpu_engine.generate(requests[0]))
    between = cpu_engine.stats()
    together: list[Completion] = await asyncio.gather(
        *(collect(cpu_engine.generate(r)) for r in requests)
    )
    after = await wait_for(cpu_engine, lambda s: s.requests_running == 0)
    assert all(done.finish_reason == "length" for done in together)
    # Alone: one prefill and 11 steps. Together: four prefills, then all four rows step
    # together, so the 44 later tokens take 11 steps, not 44.
    assert between.decode_steps - before.decode_steps == 11
    assert after.decode_steps - between.decode_steps == 11
    assert after.largest_batch >= 4
    # Greedy decoding gives the same text alone and batched (left padding is masked out).
    assert {done.text for done in together} == {alone.text}


async def test_a_consumer_that_leaves_frees_its_row(cpu_engine: CpuEngine) -> None:
    before = cpu_engine.stats()
    seen = []
    async with aclosing(cpu_engine.generate(ask(STORY, temperature=0, max_tokens=400))) as events:
        async for event in events:
            seen.append(event)
            if len(seen) == 3:
                break
    assert all(isinstance(event, TextDelta) for event in seen)
    after = await wait_for(cpu_engine, lambda s: s.requests_abandoned > before.requests_abandoned)
    assert after.requests_running == 0
    assert after.tokens_generated - before.tokens_generated < 50


async def test_cancelled_task_frees_its_row(cpu_engine: CpuEngine) -> None:
    before = cpu_engine.stats()
    task = asyncio.create_task(collect(cpu_engine.generate(ask(STORY, max_tokens=400))))
    await wait_for(cpu_engine, lambda s: s.requests_running == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = await wait_for(cpu_engine, lambda s: s.requests_abandoned > before.requests_abandoned)
    assert after.requests_running == 0


async def test_events_end_with_one_finished(cpu_engine: CpuEngine) -> None:
    events = [e async for e in cpu_engine.generate(ask(temperature=0, max_tokens=8))]
    assert isinstance(events[-1], Finished)
    assert not any(isinstance(e, Finished) for e in events[:-1])


async def test_requests_that_cannot_fit_are_refused(cpu_engine: CpuEngine) -> None:
    with pytest.raises(InvalidGenerationRequest, match="max_tokens") as caught:
        await collect(cpu_engine.generate(ask(max_tokens=100_000)))
    assert caught.value.param == "max_tokens"
    with pytest.raises(InvalidGenerationRequest, match="prompt is"):
        await collect(cpu_engine.generate(GenerationRequest(prompt="word " * 9000)))


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"max_tokens": 0}, "max_tokens"),
        ({"temperature": 3}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"stop": ("",)}, "stop"),
        ({"stop": ("a", "b", "c", "d", "e")}, "stop"),
    ],
)
def test_request_values_are_checked(options: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidGenerationRequest) as caught:
        ask(**options)
    assert caught.value.param == param


def test_a_request_names_messages_or_a_prompt() -> None:
    with pytest.raises(InvalidGenerationRequest):
        GenerationRequest()
    with pytest.raises(InvalidGenerationRequest):
        GenerationRequest(messages=CAPITAL, prompt="also")
