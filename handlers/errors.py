"""Domain errors: a code, a Chinese message a person understands, a status.

Handlers raise them; one error handler at the web edge turns them into
``{"error": {"code", "message"}}``.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status


class Invalid(DomainError):
    status = 422
    code = "invalid"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Conflict(DomainError):
    """A step the case's state does not allow."""

    status = 409
    code = "conflict"


class TooMany(DomainError):
    status = 429
    code = "too_many"


class Unavailable(DomainError):
    status = 503
    code = "unavailable"
