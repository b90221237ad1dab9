"""Limits as clients meet them: 429s with OpenAI's headers, shared by gateway processes."""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path

import openai
import pytest

from llmops.serving.echo import EchoServer
from tests.support.gateways import gateway_in_thread, gateway_process, settings_for
from tests.support.http import Reply, admin, chat, new_key

HELLO = {
    "model": "echo",
    "messages": [{"role": "user", "content": "one two three"}],
    "max_tokens": 3,
}


def test_429_carries_retry_after_and_ratelimit_headers(echo: EchoServer, sqlite_url: str) -> None:
    with gateway_in_thread(settings_for(sqlite_url, {"echo": [echo.url]})) as gw:
        key = new_key(gw.url, "t", rpm=2, tpm=10_000)
        first = chat(gw.url, key, HELLO)
        assert first.status == 200
        assert first.headers["x-ratelimit-limit-requests"] == "2"
        assert first.headers["x-ratelimit-remaining-requests"] == "1"
        assert first.headers["x-ratelimit-limit-tokens"] == "10000"
        assert int(first.headers["x-ratelimit-remaining-tokens"]) < 10_000
        assert first.headers["x-ratelimit-reset-requests"].endswith("s")
        assert chat(gw.url, key, HELLO).status == 200
        refused = chat(gw.url, key, HELLO)
        assert refused.status == 429
        assert refused.json()["error"]["type"] == "rate_limit_error"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["x-ratelimit-remaining-requests"] == "0"

        client = openai.OpenAI(base_url=gw.v1, api_key=key, max_retries=0)
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(
                model="echo", messages=[{"role": "user", "content": "x"}]
            )


def test_team_limit_holds_across_keys_and_settles_to_real_usage(
    echo: EchoServer, sqlite_url: str
) -> None:
    with gateway_in_thread(settings_for(sqlite_url, {"echo": [echo.url]})) as gw:
        one, two = new_key(gw.url, "shared"), new_key(gw.url, "shared")
        admin("PATCH", gw.url, "/teams/shared", {"tpm": 100})
        time.sleep(2.1)  # the keys' cached principals expire and pick up the team limit
        # Each request reserves ~11 prompt + 40 completion tokens but uses ~4 + 3.
        big = {**HELLO, "max_tokens": 40}
        statuses = []
        for i in range(12):
            statuses.append(chat(gw.url, (one, two)[i % 2], big).status)
            time.sleep(0.05)  # let the settlement land
        admitted = statuses.count(200)
        # Without settlement only 100 // 51 = 1 request would fit.
        assert admitted >= 8, statuses
        assert statuses.count(429) == 12 - admitted


def test_two_gateway_processes_share_one_limit(
    echo: EchoServer, redis_url: str, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'keys.db'}"
    settings = settings_for(database, {"echo": [echo.url]}, redis_url=redis_url)
    with gateway_process(settings, tmp_path) as a, gateway_process(settings, tmp_path) as b:
        key = new_key(a.url, "limited", rpm=10)

        def send(i: int) -> Reply:
            return chat((a, b)[i % 2].url, key, HELLO)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(send, range(40)))
        by_gateway = [[r.status for r in replies[i::2]] for i in (0, 1)]
        assert sum(s == 200 for s in by_gateway[0] + by_gateway[1]) == 10
        assert all(s in (200, 429) for s in by_gateway[0] + by_gateway[1])
        assert any(s == 200 for s in by_gateway[0]) and any(s == 200 for s in by_gateway[1])


def test_redis_down_is_503_not_500(echo: EchoServer, sqlite_url: str) -> None:
    from tests.support.services import free_port

    settings = settings_for(
        sqlite_url, {"echo": [echo.url]}, redis_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    with gateway_in_thread(settings) as gw:
        key = new_key(gw.url, "t", rpm=5)
        reply = chat(gw.url, key, HELLO)
        assert reply.status == 503
        assert reply.json()["error"]["type"] == "service_unavailable"
        from tests.support.http import call

        ready = call("GET", f"{gw.url}/readyz")  # reported, but the pod stays in rotation
        assert ready.status == 200 and ready.json()["degraded"] is True
        assert ready.json()["checks"]["limits"].startswith("degraded")
    fail_open = settings.model_copy(
        update={"limits": settings.limits.model_copy(update={"fail_open": True})}
    )
    with gateway_in_thread(fail_open) as gw:
        assert chat(gw.url, key, HELLO).status == 200


def test_prompt_tokens_are_counted_with_the_models_tokenizer(
    echo: EchoServer, tmp_path: Path
) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, "one": 1, "two": 2, "three": 3}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    settings = settings_for(
        f"sqlite:///{tmp_path / 'k.db'}",
        {"estimated": [echo.url]},
        models=[
            {
                "name": "counted",
                "upstreams": [echo.url],
                "tokenizer": str(tmp_path / "tokenizer.json"),
            },
            {"name": "estimated", "upstreams": [echo.url]},
        ],
    )
    with gateway_in_thread(settings) as gw:
        for model, prompt_tokens in (
            ("counted", 3),
            ("estimated", 4),
        ):  # "one two three": 3 words, 13 chars
            key = new_key(gw.url, f"team-{model}", tpm=1000)
            reply = chat(gw.url, key, {**HELLO, "model": model})
            reserved = prompt_tokens + 4 + 3 + HELLO["max_tokens"]  # type: ignore[operator]
            assert reply.headers["x-ratelimit-remaining-tokens"] == str(1000 - reserved)
