"""A small blocking HTTP client for tests that need raw status, headers and bodies."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from tests.support.gateways import ADMIN_TOKEN


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    method: str,
    url: str,
    *,
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Reply:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None and "content-type" not in {k.lower() for k in (headers or {})}:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as e:
        return Reply(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


def admin(method: str, gateway_url: str, path: str, body: Any = None) -> Reply:
    return call(
        method,
        f"{gateway_url}/admin{path}",
        body=body,
        headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
    )


def new_key(gateway_url: str, team: str, **fields: Any) -> str:
    reply = admin("POST", gateway_url, "/keys", {"team": team, **fields})
    assert reply.status == 201, reply.body
    key: str = reply.json()["key"]
    return key


def chat(gateway_url: str, key: str, body: dict[str, Any]) -> Reply:
    return call(
        "POST",
        f"{gateway_url}/v1/chat/completions",
        body=body,
        headers={"authorization": f"Bearer {key}"},
    )


def metric_values(gateway_url: str, name: str) -> dict[str, float]:
    """Every sample of the metric ``name`` at ``gateway_url``, by its labelled name."""
    out: dict[str, float] = {}
    for line in call("GET", f"{gateway_url}/metrics").body.decode().splitlines():
        if line.startswith(name + "{"):
            labels, _, value = line.rpartition(" ")
            out[labels] = float(value)
    return out


def in_flight(gateway_url: str) -> float:
    """Requests the gateway has in flight at its replicas, all together."""
    return sum(metric_values(gateway_url, "llmops_upstream_in_flight").values())


def settle_in_flight(gateway_url: str, timeout: float = 3.0) -> float:
    """The in-flight count once the gateway had time to see a departed client."""
    deadline = time.monotonic() + timeout
    while (value := in_flight(gateway_url)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value
