"""The operator's exceptions.

::

    OperatorError
    ├── ApiError            the Kubernetes API answered an error (status, reason, message)
    │   ├── NotFound        404
    │   ├── Conflict        409 (already exists, or a stale write)
    │   └── Invalid         422 (the object failed validation)
    └── ResolveError        the registry could not say which version an alias names
"""

from __future__ import annotations


class OperatorError(Exception):
    """Base of the operator's errors."""


class ApiError(OperatorError):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    pass


class Invalid(ApiError):
    pass


class ResolveError(OperatorError):
    """An alias or version that the registry does not know (or an unreachable registry)."""


_BY_STATUS: dict[int, type[ApiError]] = {404: NotFound, 409: Conflict, 422: Invalid}


def api_error(status: int, reason: str, message: str) -> ApiError:
    """The error for an API answer, translated in this one place."""
    return _BY_STATUS.get(status, ApiError)(status, reason, message)
