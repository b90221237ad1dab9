"""The gateway's exception tree, each error carrying its HTTP status and OpenAI error type.

    GatewayError                          500 api_error
    +-- InvalidRequest                    400 invalid_request_error
    |   +-- BodyTooLarge                  413
    |   +-- MethodNotAllowed              405
    |   +-- ModelNotFound                 404
    +-- AuthenticationFailed              401 authentication_error
    +-- PermissionDenied                  403 permission_error
    +-- NotFound                          404 not_found_error
    +-- Conflict                          409 conflict_error
    +-- RateLimited                       429 rate_limit_error (carries headers)
    |   +-- RequestTooLarge               429 (larger than the limit itself: never retried)
    +-- UpstreamError                     502 upstream_error
    |   +-- UpstreamUnreachable           502 (no connection: the replica saw nothing)
    |   +-- UpstreamTimeout               504
    +-- ServiceUnavailable                503 service_unavailable

The one place these become responses is :func:`gateway.app.create_app`'s handler,
through :meth:`GatewayError.body`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmops.openai_errors import error_body


class GatewayError(Exception):
    status = 500
    type = "api_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.message, type=self.type, param=self.param, code=self.code)


class InvalidRequest(GatewayError):
    status = 400
    type = "invalid_request_error"


class ContentPolicyViolation(InvalidRequest):
    code = "content_policy_violation"


class BodyTooLarge(InvalidRequest):
    status = 413
    code = "request_too_large"


class MethodNotAllowed(InvalidRequest):
    status = 405
    code = "method_not_allowed"


class ModelNotFound(InvalidRequest):
    status = 404
    code = "model_not_found"


class AuthenticationFailed(GatewayError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class PermissionDenied(GatewayError):
    status = 403
    type = "permission_error"
    code = "model_not_allowed"


class NotFound(GatewayError):
    status = 404
    type = "not_found_error"


class Conflict(GatewayError):
    status = 409
    type = "conflict_error"
    code = "already_exists"


class RateLimited(GatewayError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"


class RequestTooLarge(RateLimited):
    code = "request_too_large"


class BudgetExceeded(RateLimited):
    code = "budget_exceeded"


class UpstreamError(GatewayError):
    status = 502
    type = "upstream_error"
    code = "upstream_error"


class UpstreamUnreachable(UpstreamError):
    code = "upstream_unavailable"


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "upstream_timeout"


class ServiceUnavailable(GatewayError):
    status = 503
    type = "service_unavailable"
