"""OpenAI's request bodies (the fields a replica honours) and response shapes.

Fields OpenAI defines that do not change what a replica generates (``user``,
``metadata``, ...) are accepted and ignored, as OpenAI-compatible servers do; fields
asking for something this replica cannot do (``n`` above 1, ``logprobs``, tools,
a ``response_format`` other than text) are refused with a 400 that names them.

Embeddings take text only: token ids (``input`` as integers) are refused with a 400,
because clients tokenize with their own vocabulary (OpenAI's), which the replica's
model would read as other tokens and embed without a word of warning.
"""

from __future__ import annotations

import base64
import time
from typing import Annotated, Any, Literal, TypeVar

import orjson
import pydantic
from pydantic import BaseModel, ConfigDict, Field

from llmops.serving.embedding import EmbeddingRequest, Embeddings, Vectors
from llmops.serving.engine import ChatMessage, Completion, GenerationRequest, Role, Usage
from llmops.serving.errors import InvalidGenerationRequest

B = TypeVar("B", bound=BaseModel)
# Pydantic names the member of a union it tried in an error's location; OpenAI's names do not.
_UNION_TAGS = frozenset({"str", "int", "float", "bool", "none", "dict"})


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TextPart(_Body):
    type: Literal["text"]
    text: str


class Message(_Body):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None

    def to_chat_message(self) -> ChatMessage:
        role: Role = "system" if self.role == "developer" else self.role
        content = self.content
        if isinstance(content, list):
            content = "".join(part.text for part in content)
        return ChatMessage(role, content or "")


class StreamOptions(_Body):
    include_usage: bool = False


class ResponseFormat(_Body):
    type: Literal["text"]
    """Structured output (``json_object``, ``json_schema``) is not something this replica
    can promise: it is refused, never silently ignored."""


class _Sampling(_Body):
    model: Annotated[str, Field(min_length=1)]
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(gt=0, le=1)] | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: Literal[1] = 1
    logprobs: Literal[False, None] = None
    response_format: ResponseFormat | None = None

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    def _request(self, max_tokens: int | None, **what: Any) -> GenerationRequest:
        stop = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return GenerationRequest(
            max_tokens=max_tokens,
            temperature=1.0 if self.temperature is None else self.temperature,
            top_p=1.0 if self.top_p is None else self.top_p,
            seed=self.seed,
            stop=tuple(stop),
            **what,
        )


class ChatCompletionBody(_Sampling):
    messages: Annotated[list[Message], Field(min_length=1)]
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    tools: Annotated[list[Any], Field(max_length=0)] | None = None

    def to_request(self) -> GenerationRequest:
        messages = tuple(m.to_chat_message() for m in self.messages)
        return self._request(self.max_completion_tokens or self.max_tokens, messages=messages)


class CompletionBody(_Sampling):
    prompt: str | Annotated[list[str], Field(min_length=1, max_length=1)]
    echo: Literal[False] = False
    best_of: Literal[1, None] = None

    def to_request(self) -> GenerationRequest:
        prompt = self.prompt if isinstance(self.prompt, str) else self.prompt[0]
        return self._request(self.max_tokens, prompt=prompt)


class EmbeddingBody(_Body):
    model: Annotated[str, Field(min_length=1)]
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: Annotated[int, Field(ge=1)] | None = None

    def to_request(self) -> EmbeddingRequest:
        if isinstance(self.input, str):
            return EmbeddingRequest((self.input,), self.dimensions, single=True)
        texts = tuple(item for item in self.input if isinstance(item, str))
        if len(texts) < len(self.input):
            raise InvalidGenerationRequest(
                "input must be text: token ids are not accepted (they would be read in "
                "this model's vocabulary, not the one they were counted in)",
                param="input",
            )
        return EmbeddingRequest(texts, self.dimensions)


def _param(location: tuple[int | str, ...]) -> str:
    """``('messages', 0, 'content', 'str')`` as OpenAI names it: ``messages[0].content``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part not in _UNION_TAGS and "[" not in part:
            text += f".{part}" if text else part
    return text


def parse(kind: type[B], raw: bytes) -> B:
    """A request body of type ``kind``; malformed or invalid bodies are 400s naming the field."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise InvalidGenerationRequest(f"the body is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise InvalidGenerationRequest("the body must be a JSON object")
    try:
        return kind.model_validate(data)
    except pydantic.ValidationError as e:
        first = e.errors()[0]
        param = _param(first["loc"])
        raise InvalidGenerationRequest(f"{param or 'body'}: {first['msg']}", param=param) from e


def usage_json(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def chat_completion(ident: str, model: str, done: Completion) -> dict[str, Any]:
    message = {"role": "assistant", "content": done.text}
    return {
        "id": ident,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": done.finish_reason}],
        "usage": usage_json(done.usage),
    }


def text_completion(ident: str, model: str, done: Completion) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "text": done.text, "logprobs": None, "finish_reason": done.finish_reason}
        ],
        "usage": usage_json(done.usage),
    }


def _encoded(row: Vectors, encoding_format: Literal["float", "base64"]) -> list[float] | str:
    if encoding_format == "base64":  # OpenAI's: the little-endian float32 bytes
        return base64.b64encode(row.astype("<f4", copy=False).tobytes()).decode("ascii")
    values: list[float] = row.tolist()  # each float32 as the double it is exactly
    return values


def embedding_list(
    model: str, done: Embeddings, encoding_format: Literal["float", "base64"]
) -> dict[str, Any]:
    data = [
        {"object": "embedding", "index": index, "embedding": _encoded(row, encoding_format)}
        for index, row in enumerate(done.vectors)
    ]
    tokens = done.usage.prompt_tokens
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
