"""Reading and checking OpenAI request bodies before anything is spent on them.

Only what the gateway relies on is checked (model, messages, token and sampling
bounds, streaming); every other field travels to the replica untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from gateway.errors import InvalidRequest

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


class Endpoint(StrEnum):
    CHAT = "chat/completions"
    COMPLETIONS = "completions"
    EMBEDDINGS = "embeddings"

    @property
    def operation(self) -> str:
        """The GenAI semantic-convention operation name."""
        return {"chat/completions": "chat", "completions": "text_completion"}.get(
            self.value, "embeddings"
        )


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    endpoint: Endpoint
    raw: bytes
    body: dict[str, Any]
    model: str
    stream: bool
    include_usage: bool
    max_tokens: int | None
    choices: int


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int_at_least(body: dict[str, Any], name: str, low: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not _is_int(value) or value < low:
        raise InvalidRequest(f"'{name}' must be an integer of at least {low}", param=name)
    return int(value)


def _number_between(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is not None and (not _is_number(value) or not low <= value <= high):
        raise InvalidRequest(f"'{name}' must be a number between {low} and {high}", param=name)


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("'messages' must be a non-empty array", param="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidRequest(f"'messages[{i}]' must be an object", param=f"messages[{i}]")
        role = message.get("role")
        if not isinstance(role, str) or role not in ROLES:
            raise InvalidRequest(
                f"'messages[{i}].role' must be one of {', '.join(sorted(ROLES))}",
                param=f"messages[{i}].role",
            )
        _check_content(message.get("content"), f"messages[{i}].content")


def _check_content(content: Any, where: str) -> None:
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise InvalidRequest(f"'{where}' must be a string or an array of parts", param=where)
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise InvalidRequest(
                f"'{where}[{j}]' must be an object with a 'type'", param=f"{where}[{j}]"
            )
        if part["type"] == "text" and not isinstance(part.get("text"), str):
            raise InvalidRequest(
                f"'{where}[{j}].text' must be a string", param=f"{where}[{j}].text"
            )


def _is_prompt_item(value: Any) -> bool:
    """A text, a token id, or an array of token ids."""
    if isinstance(value, str) or _is_int(value):
        return True
    return isinstance(value, list) and all(_is_int(v) for v in value)


def _check_input(body: dict[str, Any], name: str) -> None:
    value = body.get(name)
    if isinstance(value, str):
        return
    if isinstance(value, list) and value and all(_is_prompt_item(v) for v in value):
        return
    raise InvalidRequest(
        f"'{name}' must be a string, or a non-empty array of strings or token ids", param=name
    )


def decode(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise InvalidRequest(f"We could not parse the JSON body of your request: {e}") from e
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body


def parse(endpoint: Endpoint, raw: bytes) -> ParsedRequest:
    body = decode(raw)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("'model' is required and must be a non-empty string", param="model")
    if endpoint is Endpoint.CHAT:
        _check_messages(body.get("messages"))
    elif endpoint is Endpoint.COMPLETIONS:
        _check_input(body, "prompt")
    else:
        _check_input(body, "input")
    stream = body.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise InvalidRequest("'stream' must be a boolean", param="stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise InvalidRequest("'stream_options' must be an object", param="stream_options")
    max_tokens = _int_at_least(body, "max_completion_tokens", 1) or _int_at_least(
        body, "max_tokens", 1
    )
    choices = _int_at_least(body, "n", 1) or 1
    _number_between(body, "temperature", 0, 2)
    _number_between(body, "top_p", 0, 1)
    return ParsedRequest(
        endpoint=endpoint,
        raw=raw,
        body=body,
        model=model,
        stream=bool(stream),
        include_usage=bool(options and options.get("include_usage")),
        max_tokens=max_tokens,
        choices=choices,
    )
