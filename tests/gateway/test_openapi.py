"""The OpenAPI document describes every endpoint a client calls, the OpenAI ones too."""

from __future__ import annotations

from llmops.serving.echo import EchoServer
from tests.support.gateways import gateway_in_thread, settings_for
from tests.support.http import call


def test_the_openapi_document_describes_the_openai_endpoints(
    echo: EchoServer, sqlite_url: str
) -> None:
    settings = settings_for(sqlite_url, {"echo": [echo.url]})
    with gateway_in_thread(settings) as gateway:
        document = call("GET", f"{gateway.url}/openapi.json").json()
    chat = document["paths"]["/v1/chat/completions"]["post"]
    body = chat["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["model", "messages"]
    assert chat["security"] == [{"ApiKey": []}]
    assert {"400", "401", "429", "502"} <= set(chat["responses"])
    assert "/v1/models" in document["paths"] and "/v1/embeddings" in document["paths"]
    assert any(p.startswith("/admin") for p in document["paths"])
