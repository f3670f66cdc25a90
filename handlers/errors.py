"""Domain errors: a kind (the class), a code and a Chinese message a person
understands.

Handlers raise them and know nothing of HTTP; one table at the web edge
(``app/api/errors.py``) maps each kind to a status and answers
``{"error": {"code", "message"}}``.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None, problems: list[str] | None = None):
        super().__init__(message)
        self.message = message
        # Every problem found, when there are several to fix at once (a
        # version of the responsibility list, an import's rows).
        self.problems = problems
        if code:
            self.code = code


class BadRequest(DomainError):
    """The request cannot be read at all (empty, not JSON, a second file)."""

    code = "bad_request"


class Invalid(DomainError):
    """A value that breaks a rule."""

    code = "invalid"


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """A step the case's (or a record's) state does not allow."""

    code = "conflict"


class Gone(DomainError):
    """Something that existed and has expired (a binding code, a link)."""

    code = "gone"


class TooLarge(DomainError):
    code = "too_large"


class Unsupported(DomainError):
    """A kind of content we do not take (not an image, not JSON)."""

    code = "unsupported"


class TooMany(DomainError):
    code = "too_many"


class Unavailable(DomainError):
    """A service we depend on is away; trying again later may work."""

    code = "unavailable"
