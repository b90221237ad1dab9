"""The serving package's exception tree, each error carrying its HTTP status and OpenAI type.

    ServingError                          500 api_error
    +-- InvalidGenerationRequest          400 invalid_request_error (``param`` names the field)
    |   +-- ModelNotServed                404 (``code: model_not_found``)
    |       +-- EndpointNotServed         404 (``code: unsupported_endpoint``)
    +-- ModelLoadError                    500 (the weights could not be found or loaded)
    |   +-- UnsupportedModelSource        500 (a source this release cannot load yet)
    +-- EngineUnavailable                 503 service_unavailable (not started, closed, crashed)

Engines translate their libraries' errors into these once, with ``raise ... from``;
:mod:`llmops.serving.openai_api` turns them into responses in one handler through
:meth:`ServingError.body`.
"""

from __future__ import annotations

from typing import Any

from llmops.errors import LlmopsError
from llmops.openai_errors import error_body


class ServingError(LlmopsError):
    """Base of every error the serving package raises on purpose."""

    status = 500
    type = "api_error"
    code: str | None = None

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param

    def body(self) -> dict[str, Any]:
        """OpenAI's error body for this error."""
        return error_body(self.message, type=self.type, param=self.param, code=self.code)


class InvalidGenerationRequest(ServingError):
    """The client asked for something the engine cannot do (a client mistake, never a 500)."""

    status = 400
    type = "invalid_request_error"


class ModelNotServed(InvalidGenerationRequest):
    """The request names a model this replica does not serve."""

    status = 404
    code = "model_not_found"


class EndpointNotServed(ModelNotServed):
    """The replica serves the model, but not at this endpoint: an embedding model asked
    to chat, or a chat model asked for embeddings (OpenAI answers these with a 404 too)."""

    code = "unsupported_endpoint"


class ModelLoadError(ServingError):
    """The model's weights or tokenizer could not be found, converted or loaded."""


class UnsupportedModelSource(ModelLoadError):
    """A model source that is valid in settings but not loadable by this release."""


class EngineUnavailable(ServingError):
    """The engine is not started, is closed, or its worker died."""

    status = 503
    type = "service_unavailable"
    code = "engine_unavailable"
