"""Who may administer the gateway, and where: a token per actor (the audit trail names
the token's actor, never a name the caller chose), and a listener of its own for the
admin API and the metrics, which the public listener does not serve."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from llmops.serving.echo import EchoServer
from tests.support.gateways import ADMIN_TOKEN, gateway_in_thread, settings_for
from tests.support.http import call, chat
from tests.support.services import free_port

CI_TOKEN = "ci-token-0123456789abcdef"
ALICE_TOKEN = "alice-token-0123456789abcdef"
ASK = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}


def as_actor(token: str, url: str, method: str, path: str, body: Any = None, **headers: str) -> Any:
    return call(
        method,
        f"{url}/admin{path}",
        body=body,
        headers={"authorization": f"Bearer {token}", **headers},
    )


def test_the_audit_trail_names_the_tokens_actor(echo: EchoServer, sqlite_url: str) -> None:
    settings = settings_for(
        sqlite_url, {"echo": [echo.url]}, admin_tokens={"ci": CI_TOKEN, "alice": ALICE_TOKEN}
    )
    with gateway_in_thread(settings) as gateway:
        url = gateway.url
        assert as_actor(CI_TOKEN, url, "POST", "/teams", {"name": "by-ci"}).status == 201
        on_behalf = {"x-llmops-actor": "ticket-42"}
        reply = as_actor(ALICE_TOKEN, url, "POST", "/teams", {"name": "by-alice"}, **on_behalf)
        assert reply.status == 201
        assert as_actor(ADMIN_TOKEN, url, "POST", "/teams", {"name": "by-admin"}).status == 201
        refused = as_actor("not-a-token-0123456789", url, "POST", "/teams", {"name": "x"})
        assert refused.status == 401
        assert refused.json()["error"]["code"] == "invalid_admin_token"
        entries = as_actor(CI_TOKEN, url, "GET", "/audit").json()["data"]
        actors = {e["target"]: e["actor"] for e in entries if e["action"] == "team.created"}
        assert actors == {"by-ci": "ci", "by-alice": "alice:ticket-42", "by-admin": "admin"}


def test_admin_tokens_are_checked_when_the_settings_load(sqlite_url: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="share a token"):
        settings_for(sqlite_url, {}, admin_tokens={"ci": ADMIN_TOKEN})
    with pytest.raises(pydantic.ValidationError, match="admin_token's actor"):
        settings_for(sqlite_url, {}, admin_tokens={"admin": CI_TOKEN})
    with pytest.raises(pydantic.ValidationError, match="admin_tokens"):
        settings_for(sqlite_url, {}, admin_tokens={"bad name": CI_TOKEN})
    with pytest.raises(pydantic.ValidationError, match="admin_port must differ"):
        settings_for(sqlite_url, {}, port=9000, admin_port=9000)


def test_admin_and_metrics_have_a_listener_of_their_own(echo: EchoServer, sqlite_url: str) -> None:
    public_port, admin_port = free_port(), free_port()
    settings = settings_for(
        sqlite_url, {"echo": [echo.url]}, port=public_port, admin_port=admin_port
    )
    with gateway_in_thread(settings) as gateway:
        public, private = gateway.url, f"http://127.0.0.1:{admin_port}"
        created = as_actor(ADMIN_TOKEN, private, "POST", "/keys", {"team": "team-a"})
        assert created.status == 201
        key = created.json()["key"]
        assert chat(public, key, ASK).status == 200
        assert call("GET", f"{private}/metrics").status == 200
        for path in ("/admin/teams", "/admin", "/metrics"):
            hidden = call(
                "GET", f"{public}{path}", headers={"authorization": f"Bearer {ADMIN_TOKEN}"}
            )
            assert hidden.status == 404, path
            assert hidden.json()["error"]["code"] == "unknown_url"
        assert chat(private, key, ASK).status == 404  # no API on the admin listener
        for url in (public, private):
            assert call("GET", f"{url}/healthz").status == 200
            assert call("GET", f"{url}/readyz").status == 200
