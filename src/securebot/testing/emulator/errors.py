"""Discord's HTTP error bodies: ``{"code", "message"[, "errors"]}`` with Discord's codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from securebot.errors import SecurebotError

UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_INVITE = 10006
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_OVERWRITE = 10009
UNKNOWN_ROLE = 10011
UNKNOWN_USER = 10013
UNKNOWN_EMOJI = 10014
UNKNOWN_WEBHOOK = 10015
UNKNOWN_BAN = 10026
UNKNOWN_INTERACTION = 10062
UNKNOWN_APPLICATION_COMMAND = 10063
MAX_PINS = 30003
INTERACTION_ACKNOWLEDGED = 40060
MISSING_ACCESS = 50001
CANNOT_DM = 50007
CANNOT_EDIT_OTHERS_MESSAGE = 50005
EMPTY_MESSAGE = 50006
MISSING_PERMISSIONS = 50013
BULK_DELETE_COUNT = 50016
BULK_DELETE_TOO_OLD = 50034
INVALID_FORM_BODY = 50035
INVALID_JSON = 50109
SLOWMODE = 20016


class ApiError(SecurebotError):
    """An error the emulator answers with, shaped like Discord's (status, code, message)."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: Mapping[str, Any] | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """``errors`` is Discord's nested field-error tree (for 50035 Invalid Form Body);
        ``extra`` adds body fields (``retry_after``), ``headers`` response headers."""
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = dict(errors) if errors else None
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body Discord sends for this error."""
        data: dict[str, Any] = {"message": self.message, "code": self.code, **self.extra}
        if self.errors:
            data["errors"] = self.errors
        return data


def not_found(code: int, what: str) -> ApiError:
    """404 ``Unknown <what>``."""
    return ApiError(404, code, f"Unknown {what}")


def missing_permissions() -> ApiError:
    """403 50013 Missing Permissions (also Discord's answer to hierarchy violations)."""
    return ApiError(403, MISSING_PERMISSIONS, "Missing Permissions")


def missing_access() -> ApiError:
    """403 50001 Missing Access (the bot cannot see the resource at all)."""
    return ApiError(403, MISSING_ACCESS, "Missing Access")


def unauthorized() -> ApiError:
    """401 for a missing or wrong token."""
    return ApiError(401, 0, "401: Unauthorized")


def invalid_form(errors: Mapping[str, Any]) -> ApiError:
    """400 50035 Invalid Form Body with Discord's nested ``errors`` tree."""
    return ApiError(400, INVALID_FORM_BODY, "Invalid Form Body", errors)


def field_error(code: str, message: str) -> dict[str, Any]:
    """One leaf of the ``errors`` tree: ``{"_errors": [{"code", "message"}]}``."""
    return {"_errors": [{"code": code, "message": message}]}
