"""The one exception tree of omni.

Every error a user can see derives from :class:`OmniError` and says what happened and
what to do. The server maps these to HTTP statuses in the caller's dialect; the CLI prints
``message`` (and ``hint``) to stderr without a traceback.

::

    OmniError
    ├── ConfigError            bad config file, flag or environment value
    ├── StoreError             the database cannot be opened, migrated or written
    │   └── SecretKeyError     the encryption key is missing or does not match the data
    ├── NotFoundError          a provider, account, model … that does not exist
    │   ├── ModelNotFoundError no configured provider serves the requested model
    │   └── NeedsLoginError    a provider's only accounts need a new OAuth sign-in (503)
    ├── ConflictError          something with that name already exists
    ├── InvalidInputError      a request or argument that cannot be served as given
    ├── AuthError              missing or wrong credentials (password, key, token)
    ├── ForbiddenError         valid credentials that do not allow this request
    ├── LockedOutError         too many failed logins from one address
    ├── UnsupportedError       a valid request this omni cannot serve (yet)
    ├── ServerNotRunningError  a command needs a running server and none answers
    └── UpstreamError          the upstream failed (status, timeout, connection)
"""

from __future__ import annotations


class OmniError(Exception):
    """Base of all errors omni reports to a user."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(OmniError):
    """A configuration file, environment variable or flag holds a bad value."""

    status = 500
    code = "config_error"


class StoreError(OmniError):
    """The database cannot be opened, migrated or written."""

    code = "store_error"


class SecretKeyError(StoreError):
    """The key that encrypts upstream secrets is missing or does not match the data."""

    code = "secret_key_error"


class NotFoundError(OmniError):
    """A named thing (provider, account, model, backup …) does not exist."""

    status = 404
    code = "not_found"


class ModelNotFoundError(NotFoundError):
    """No configured provider serves the requested model."""

    code = "model_not_found"


class NeedsLoginError(NotFoundError):
    """Every account of a subscription provider needs a new sign-in (its refresh token
    was revoked or expired): nothing can serve the request until someone logs in again.
    A 503 for clients (it is omni's upstream account, not the caller, that must act); a
    :class:`NotFoundError` so a combo skips such a step like a provider without accounts."""

    status = 503
    code = "account_needs_login"


class ConflictError(OmniError):
    """Something with that name already exists."""

    status = 409
    code = "conflict"


class InvalidInputError(OmniError):
    """A request or argument that cannot be served as given (the caller's fault)."""

    status = 400
    code = "invalid_request"


class AuthError(OmniError):
    """Missing or wrong credentials: a password, an API key or a session token."""

    status = 401
    code = "unauthorized"


class ForbiddenError(OmniError):
    """Valid credentials that do not allow this request (scope, model allowlist)."""

    status = 403
    code = "forbidden"


class LockedOutError(OmniError):
    """Too many failed logins from one address; refused for ``retry_after`` seconds."""

    status = 429
    code = "locked_out"

    def __init__(self, message: str, *, retry_after: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class RateLimitedError(OmniError):
    """A limit omni enforces itself (an API key's rate) is reached for ``retry_after`` s."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class BudgetExceededError(OmniError):
    """An API key's spending budget for the period is used up (until ``retry_after``)."""

    status = 402
    code = "budget_exceeded"

    def __init__(self, message: str, *, retry_after: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class UnsupportedError(OmniError):
    """A valid request that this omni cannot serve, e.g. a format pair it cannot translate."""

    status = 501
    code = "not_supported"


class ServerNotRunningError(OmniError):
    """A command needs a running server and none answers."""

    status = 503
    code = "server_not_running"


class UpstreamError(OmniError):
    """The upstream provider failed: an error status, a timeout or a broken connection."""

    status = 502
    code = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        status: int = 502,
        code: str = "upstream_error",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
