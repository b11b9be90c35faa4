"""The one error tree of llmlab-jupyter.

Every error the package raises on purpose derives from :class:`LlmLabError`.
Each class knows the HTTP status and the stable ``error_code`` that the REST
API reports, so handlers map errors to ``{"message", "error_code"}`` once::

    LlmLabError                     500  internal_error
    ├── InvalidInput                400  invalid_input
    │   └── TemplateError           400  template_error
    ├── PermissionDenied            403  permission_denied
    ├── NotFound                    404  not_found
    ├── Conflict                    409  conflict
    ├── BudgetExceeded              402  budget_exceeded
    ├── JobFailed                   500  job_failed
    ├── MissingDependency           500  missing_dependency
    └── ProviderError               502  provider_error
        ├── RateLimited             429  rate_limited
        └── ProviderTimeout         504  provider_timeout

Messages never contain secrets; ``field`` names the offending input where
there is one.
"""

from __future__ import annotations

from typing import Any


class LlmLabError(Exception):
    """Root of every llmlab-jupyter error."""

    status_code: int = 500
    error_code: str = "internal_error"

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The JSON body the REST API sends for this error."""
        body: dict[str, Any] = {"message": self.message, "error_code": self.error_code}
        if self.field is not None:
            body["field"] = self.field
        return body


class InvalidInput(LlmLabError, ValueError):
    """A value given by the caller is not acceptable; nothing was changed."""

    status_code = 400
    error_code = "invalid_input"


class TemplateError(InvalidInput):
    """A prompt template cannot be parsed or rendered (syntax, missing variable, sandbox)."""

    error_code = "template_error"


class PermissionDenied(LlmLabError, PermissionError):
    """The caller is known but may not do this."""

    status_code = 403
    error_code = "permission_denied"


class NotFound(LlmLabError, LookupError):
    """The named object does not exist (or is not visible to the caller)."""

    status_code = 404
    error_code = "not_found"


class Conflict(LlmLabError):
    """The request conflicts with the current state (duplicate name, stale write)."""

    status_code = 409
    error_code = "conflict"


class BudgetExceeded(LlmLabError):
    """A spending limit was reached; the run stopped cleanly."""

    status_code = 402
    error_code = "budget_exceeded"


class JobFailed(LlmLabError):
    """A batch job ended in the failed state."""

    status_code = 500
    error_code = "job_failed"


class MissingDependency(LlmLabError, ImportError):
    """An optional extra is needed for this feature; the message says how to install it."""

    status_code = 500
    error_code = "missing_dependency"


class ServiceUnavailable(LlmLabError):
    """The llmlab service (``llmlab serve``) could not be reached; the message names its URL."""

    status_code = 502
    error_code = "service_unavailable"


class ProviderError(LlmLabError):
    """A model provider failed or answered with an error."""

    status_code = 502
    error_code = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        provider_status: int | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, **details)
        #: requests sent for the call that failed (set by the gateway)
        self.attempts: int | None = None
        self.retryable = retryable
        self.retry_after = retry_after
        self.provider_status = provider_status


class RateLimited(ProviderError):
    """The provider (or our own limiter) refused the call for now."""

    status_code = 429
    error_code = "rate_limited"


class ProviderTimeout(ProviderError):
    """The call did not finish within its timeout."""

    status_code = 504
    error_code = "provider_timeout"
