"""The OpenAI endpoints in the gateway's OpenAPI document.

They are served on the hot path, outside FastAPI's routing (see ``gateway.app``), so
FastAPI cannot describe them: their paths are added here, with the request bodies'
required fields, the bearer key they need and the error body every failure carries.
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
_MESSAGE = {
    "type": "object",
    "required": ["role", "content"],
    "properties": {
        "role": {"type": "string", "enum": ["system", "developer", "user", "assistant"]},
        "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]},
    },
}
_SAMPLING = {
    "model": {"type": "string", "minLength": 1},
    "max_tokens": {"type": "integer", "minimum": 1},
    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
    "top_p": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
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
        "properties": {**_SAMPLING, "prompt": {"type": "string"}},
    },
    "embeddings": {
        "type": "object",
        "required": ["model", "input"],
        "properties": {
            "model": {"type": "string", "minLength": 1},
            "input": {
                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            },
        },
    },
}


def _responses() -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {
        "200": {"description": "The model's answer (JSON, or server-sent events when streamed)"},
        **{
            code: {"description": what, **error}
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
