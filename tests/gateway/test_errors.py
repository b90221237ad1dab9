"""Every error a client can meet, in OpenAI's body, with the right status; never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.keys import material
from llmops.serving.echo import EchoServer
from tests.support.gateways import RunningGateway, gateway_in_thread, settings_for
from tests.support.http import Reply, call, chat, new_key
from tests.support.services import free_port

HELLO = {"model": "echo", "messages": [{"role": "user", "content": "hello"}]}


def assert_error(
    reply: Reply, status: int, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    assert reply.status == status, reply.body
    error: dict[str, Any] = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if param is not None:
        assert error["param"] == param
    if code is not None:
        assert error["code"] == code
    return error


def test_missing_and_wrong_keys_are_401(gateway: RunningGateway) -> None:
    url = f"{gateway.v1}/chat/completions"
    assert_error(call("POST", url, body=HELLO), 401, code="invalid_api_key")
    assert_error(call("POST", url, body=HELLO, headers={"authorization": "Bearer sk-nope"}), 401)
    assert_error(call("POST", url, body=HELLO, headers={"authorization": "Basic abc"}), 401)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "echo"}, "messages"),
        ({"model": "echo", "messages": "hi"}, "messages"),
        ({"model": "echo", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({"model": "echo", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        (
            {"model": "echo", "messages": [{"role": "user", "content": [{"type": "text"}]}]},
            "messages[0].content[0].text",
        ),
        (
            {
                "model": "echo",
                "messages": [{"role": "user", "content": [{"type": "text", "text": 7}]}],
            },
            "messages[0].content[0].text",
        ),
        (
            {"model": "echo", "messages": [{"role": "user", "content": ["hi"]}]},
            "messages[0].content[0]",
        ),
        ({**HELLO, "max_tokens": 0}, "max_tokens"),
        ({**HELLO, "max_tokens": "ten"}, "max_tokens"),
        ({**HELLO, "temperature": 3}, "temperature"),
        ({**HELLO, "top_p": -1}, "top_p"),
        ({**HELLO, "stream": "yes"}, "stream"),
        ({**HELLO, "n": 0}, "n"),
    ],
)
def test_invalid_fields_are_400_naming_the_param(
    gateway: RunningGateway, api_key: str, body: dict[str, Any], param: str
) -> None:
    error = assert_error(chat(gateway.url, api_key, body), 400, param=param)
    assert error["type"] == "invalid_request_error"


def test_malformed_json_is_400(gateway: RunningGateway, api_key: str) -> None:
    headers = {"authorization": f"Bearer {api_key}"}
    url = f"{gateway.v1}/chat/completions"
    assert_error(call("POST", url, raw=b"{not json", headers=headers), 400)
    assert_error(call("POST", url, raw=b"[1, 2]", headers=headers), 400)
    assert_error(call("POST", url, raw=b"", headers=headers), 400)


def test_unknown_model_is_404_and_forbidden_model_is_403(gateway: RunningGateway) -> None:
    key = new_key(gateway.url, "narrow", models=["other"])
    assert_error(
        chat(gateway.url, key, {**HELLO, "model": "gpt-9"}),
        404,
        param="model",
        code="model_not_found",
    )
    assert_error(chat(gateway.url, key, HELLO), 403, param="model")
    assert chat(gateway.url, key, {**HELLO, "model": "other"}).status == 200


def test_body_over_the_limit_is_413(echo: EchoServer, sqlite_url: str) -> None:
    settings = settings_for(sqlite_url, {"echo": [echo.url]}, max_body_bytes=4096)
    with gateway_in_thread(settings) as gw:
        key = new_key(gw.url, "t")
        big = {**HELLO, "messages": [{"role": "user", "content": "x" * 5000}]}
        assert_error(chat(gw.url, key, big), 413)
        # Without a Content-Length (chunked), the limit holds while reading.
        chunked = call(
            "POST",
            f"{gw.v1}/chat/completions",
            raw=iter(
                [
                    b'{"model": "echo", "messages": [{"role": "user", "content": "',
                    b"x" * 5000,
                    b'"}]}',
                ]
            ),  # type: ignore[arg-type]
            headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
        )
        assert_error(chunked, 413)
        assert chat(gw.url, key, HELLO).status == 200


def test_upstream_4xx_passes_through(
    gateway: RunningGateway, api_key: str, echo: EchoServer
) -> None:
    echo.behaviour.status = 400
    reply = chat(gateway.url, api_key, HELLO)
    assert_error(reply, 400)
    assert "echo replica told to fail" in reply.json()["error"]["message"]


def test_upstream_5xx_is_502(gateway: RunningGateway, api_key: str, echo: EchoServer) -> None:
    echo.behaviour.status = 500
    assert_error(chat(gateway.url, api_key, HELLO), 502, code="upstream_error")


@pytest.fixture
def unreachable_gateway(sqlite_url: str, echo: EchoServer) -> Iterator[RunningGateway]:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    settings = settings_for(
        sqlite_url,
        {"dead": [dead], "slow": [echo.url]},
        upstream={"connect_timeout_seconds": 1, "read_timeout_seconds": 0.3},
    )
    with gateway_in_thread(settings) as gw:
        yield gw


def test_unreachable_replica_is_502_and_slow_replica_is_504(
    unreachable_gateway: RunningGateway, echo: EchoServer
) -> None:
    gw = unreachable_gateway
    key = new_key(gw.url, "t")
    assert_error(chat(gw.url, key, {**HELLO, "model": "dead"}), 502, code="upstream_unavailable")
    echo.behaviour.delay_seconds = 1.0
    assert_error(chat(gw.url, key, {**HELLO, "model": "slow"}), 504, code="upstream_timeout")


def test_unknown_paths_and_methods_use_the_error_body(gateway: RunningGateway) -> None:
    assert_error(call("GET", f"{gateway.v1}/nothing-here"), 404)
    assert_error(call("GET", f"{gateway.v1}/chat/completions"), 405)


def test_admin_errors(gateway: RunningGateway) -> None:
    url = f"{gateway.url}/admin/keys"
    assert_error(call("GET", url), 401, code="invalid_admin_token")
    assert_error(call("GET", url, headers={"authorization": "Bearer wrong"}), 401)
    from tests.support.http import admin

    assert_error(admin("POST", gateway.url, "/keys", {"team": "t", "rpm": -1}), 400, param="rpm")
    assert_error(admin("POST", gateway.url, "/keys", {"team": "t", "bogus": 1}), 400, param="bogus")
    assert_error(admin("POST", gateway.url, "/keys/key_missing/revoke"), 404)
    assert_error(admin("POST", gateway.url, "/keys", {"team": "t", "tpm": 2**40}), 400, param="tpm")
    assert admin("POST", gateway.url, "/teams", {"name": "dup"}).status == 201
    assert_error(admin("POST", gateway.url, "/teams", {"name": "dup"}), 409, param="name")
    long_actor = {
        "authorization": "Bearer test-admin-token-0123456789",
        "x-llmops-actor": "a" * 129,
    }
    assert_error(call("GET", url, headers=long_actor), 400, param="x-llmops-actor")
    assert_error(
        call(
            "POST", url, raw=b"{", headers={"authorization": "Bearer test-admin-token-0123456789"}
        ),
        400,
    )


def test_admin_disabled_without_a_token(echo: EchoServer, sqlite_url: str) -> None:
    settings = settings_for(sqlite_url, {"echo": [echo.url]}, admin_token=None)
    with gateway_in_thread(settings) as gw:
        assert_error(
            call("GET", f"{gw.url}/admin/keys", headers={"authorization": "Bearer x"}), 403
        )


def test_an_unreachable_key_store_is_503_not_500(echo: EchoServer) -> None:
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none"
    settings = settings_for(url, {"echo": [echo.url]}, migrate_on_start=False)
    with gateway_in_thread(settings) as gw:
        reply = chat(gw.url, material.generate(), HELLO)
        assert_error(reply, 503, code="key_store_down")
