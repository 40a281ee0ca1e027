"""The error vocabulary every layer speaks.

Each error carries a stable ``code`` (for API problem documents and scripts) and a message a person can act on.
"""

from __future__ import annotations


class SharpEyesError(Exception):
    """Base of every error the platform raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFoundError(SharpEyesError):
    code = "not_found"


class ConflictError(SharpEyesError):
    code = "conflict"


class InvalidInputError(SharpEyesError):
    """Bad input; ``field`` names the field (or spreadsheet column) at fault when there is one."""

    code = "invalid_input"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class TooLargeError(SharpEyesError):
    code = "too_large"


class AuthenticationError(SharpEyesError):
    code = "unauthenticated"


class ForbiddenError(SharpEyesError):
    """Signed in, but the user's role does not allow it."""

    code = "forbidden"


class TooManyAttemptsError(SharpEyesError):
    """Locked out or rate-limited for a while; ``retry_after_s`` says how long."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after_s: float, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s


class UnavailableError(SharpEyesError):
    code = "unavailable"


class ConfigError(SharpEyesError):
    """A settings file or variable is wrong; the message names the file, line and field."""

    code = "bad_config"


class SourceError(SharpEyesError):
    """A camera source failed. ``permanent`` errors need a person to fix something (password, URL)."""

    code = "source_error"
    permanent = False


class SourceAuthError(SourceError):
    code = "source_auth_failed"
    permanent = True


class SourceUnreachableError(SourceError):
    code = "source_unreachable"


class SourceUnsupportedError(SourceError):
    code = "source_unsupported"
    permanent = True


class SourceStalledError(SourceError):
    code = "source_stalled"


class SourceEndedError(SourceError):
    code = "source_ended"
