"""The OpenAI endpoints in the gateway's OpenAPI document.

They are served on the hot path, outside FastAPI's routing (see ``gateway.app``), so
FastAPI cannot describe them: their paths are added here, with what the gateway checks
in the request bodies (``gateway.openai_schema``), the bearer key they need and the
error body every failure carries. The admin API's operations are FastAPI's, corrected
here: they need the admin token, and fail with that same error body (a mistake in the
request is a 400, not FastAPI's 422).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}
_PART = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"type": "string"}},
    # A text part carries its text; other parts travel to the replica as they are.
    "if": {"properties": {"type": {"const": "text"}}},
    "then": {"required": ["text"], "properties": {"text": {"type": "string"}}},
}
_MESSAGE = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {
            "type": "string",
            "enum": ["system", "developer", "user", "assistant", "tool", "function"],
        },
        "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": _PART}]},
    },
}
_TOKEN_IDS = {"type": "array", "items": {"type": "integer"}}
# A text, or a non-empty array of texts, token ids or arrays of token ids.
_PROMPT = {
    "oneOf": [
        {"type": "string"},
        {
            "type": "array",
            "minItems": 1,
            "items": {"oneOf": [{"type": "string"}, {"type": "integer"}, _TOKEN_IDS]},
        },
    ]
}
_SAMPLING = {
    "model": {"type": "string", "minLength": 1},
    "max_tokens": {"type": "integer", "minimum": 1},
    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
    "top_p": {"type": "number", "minimum": 0, "maximum": 1},
    "stream": {"type": "boolean"},
    "user": {"type": "string"},
}
_BODIES: dict[str, dict[str, Any]] = {
    "chat/completions": {
        "type": "object",
        "required": ["model", "messages"],
        "properties": {
            **_SAMPLING,
            "messages": {"type": "array", "minItems": 1, "items": _MESSAGE},
        },
    },
    "completions": {
        "type": "object",
        "required": ["model", "prompt"],
        "properties": {**_SAMPLING, "prompt": _PROMPT},
    },
    "embeddings": {
        "type": "object",
        "required": ["model", "input"],
        "properties": {"model": {"type": "string", "minLength": 1}, "input": _PROMPT},
    },
}


def _error(what: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": what, "content": {"application/json": {"schema": schema}}}


def _responses() -> dict[str, Any]:
    return {
        "200": {"description": "The model's answer (JSON, or server-sent events when streamed)"},
        **{
            code: _error(what)
            for code, what in (
                ("400", "A mistake in the request"),
                ("401", "No key, or an unknown one"),
                ("403", "The key may not use this model"),
                ("404", "No such model"),
                ("413", "The body is too large"),
                ("429", "A rate limit, a budget, or too many failed authentications"),
                ("502", "A replica failed"),
                ("503", "Nothing can answer right now"),
                ("504", "A replica did not answer in time"),
            )
        },
    }


# A privacy request names exactly one subject (``gateway.privacy.SubjectQuery``).
_ONE_SUBJECT = {
    "oneOf": [
        {"required": [field], "properties": {field: {"type": "string"}}}
        for field in ("user", "key_id", "team")
    ]
}


def _correct_admin(schema: dict[str, Any]) -> None:
    """The admin API as the gateway serves it: behind the admin token, failing with the
    error body (``gateway.app`` answers a request FastAPI cannot validate with a 400)."""
    schema["components"]["securitySchemes"]["AdminToken"] = {"type": "http", "scheme": "bearer"}
    bodies = schema["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        bodies.pop(name, None)
    for name in ("SubjectBody", "ForgetBody"):
        if name in bodies:
            bodies[name].update(_ONE_SUBJECT)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if responses.pop("422", None) is not None:
                responses["400"] = _error("A mistake in the request")
            if not path.startswith("/admin/"):
                continue
            operation["security"] = [{"AdminToken": []}]
            responses["400"] = _error("A mistake in the request, or a bad X-LLMOps-Actor")
            responses["401"] = _error("No admin token, or an unknown one")
            responses["403"] = _error("The admin API is disabled (no admin token is set)")
            if "{" in path:
                responses["404"] = _error("No such team or key")
            if (method, path) == ("post", "/admin/teams"):
                responses["409"] = _error("The team exists already")


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` describe the OpenAI endpoints too."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Error"] = _ERROR
        components.setdefault("securitySchemes", {})["ApiKey"] = {
            "type": "http",
            "scheme": "bearer",
        }
        _correct_admin(schema)
        paths = schema.setdefault("paths", {})
        for path, body in _BODIES.items():
            paths[f"/v1/{path}"] = {
                "post": {
                    "operationId": f"create_{path.replace('/', '_')}",
                    "security": [{"ApiKey": []}],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": body}},
                    },
                    "responses": _responses(),
                }
            }
        paths["/v1/models"] = {
            "get": {
                "operationId": "list_models",
                "security": [{"ApiKey": []}],
                "responses": {k: v for k, v in _responses().items() if k in {"200", "401", "503"}},
            }
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
