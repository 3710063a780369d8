"""The one error type every failure becomes, and the Cadenza errno catalogue.

Handlers and the engine raise `ApiError`; a single middleware turns it into the Cadenza
envelope, so no code path builds an error body by hand. Scenario problems are a separate
type because they are reported to people (file:line:column), not to HTTP clients.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    """A failure the emulated API reports in its error envelope."""

    def __init__(
        self,
        status: int,
        errno: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errno = errno
        self.message = message
        # `code` feeds the sdk profile's `details.code` (e.g. INVALID_TOKEN).
        self.code = code
        self.headers = dict(headers or {})

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.errno}, {self.message!r})"


# errno values from the Cadenza error-code pages (see README "Errors").
BAD_REQUEST = -19001  # the web layer's: a request the HTTP parser rejects
INVALID_ARGUMENT = -22015
FORM_VALIDATION_FAILED = -19004
INVALID_JSON = -19005
ALREADY_REVOKED = -130001
UNAUTHORIZED = -19002
INVALID_LOGIN = -100001
INVALID_REFRESH_TOKEN = -100003
PERMISSION_DENIED = -22018
CREDENTIAL_NOT_FOUND = -22016
PAGE_NOT_FOUND = -19003
ALREADY_EXIST = -22017
RATE_LIMITED = -18011
TOO_MANY_LOGINS = -100002
UNKNOWN_ERROR = -22000


def allowed(values: Iterable[str]) -> str:
    """Render an allowed-values list the same way in every message."""
    return ", ".join(values)


def invalid_argument(
    param: str, problem: str, allowed_values: Iterable[str] | None = None
) -> ApiError:
    """400 for a bad query parameter, naming it and what it accepts."""
    message = f"Invalid argument: {param}: {problem}"
    if allowed_values is not None:
        message += f" (allowed: {allowed(allowed_values)})"
    return ApiError(400, INVALID_ARGUMENT, message, code="INVALID_ARGUMENT")


def unauthorized(reason: str) -> ApiError:
    return ApiError(401, UNAUTHORIZED, f"Unauthorized: {reason}", code="INVALID_TOKEN")


def page_not_found(path: str) -> ApiError:
    return ApiError(404, PAGE_NOT_FOUND, f"Page not found: {path}", code="NOT_FOUND")


def method_not_allowed(method: str, path: str, allowed_methods: Iterable[str]) -> ApiError:
    # Cadenza documents no errno for 405; we reuse the page-not-found errno and say why.
    return ApiError(
        405,
        PAGE_NOT_FOUND,
        f"Method not allowed: {method} {path} (allowed: {allowed(sorted(allowed_methods))})",
        code="METHOD_NOT_ALLOWED",
        headers={"Allow": ", ".join(sorted(allowed_methods))},
    )


def unknown_error(message: str = "Unknown error") -> ApiError:
    return ApiError(500, UNKNOWN_ERROR, message, code="INTERNAL")


@dataclass(frozen=True, slots=True)
class ScenarioIssue:
    """One problem in a scenario file, located for humans."""

    file: str
    line: int  # 1-based
    column: int  # 1-based
    message: str

    def __str__(self) -> str:
        # Line 0 means "no position" (a missing file, an extends cycle): no fake `:0:0`.
        if self.line <= 0:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ScenarioError(ValueError):
    """A scenario could not be loaded; `issues` lists every problem found."""

    def __init__(self, issues: list[ScenarioIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))

    def to_json(self) -> dict[str, Any]:
        return {
            "issues": [
                {"file": i.file, "line": i.line, "column": i.column, "message": i.message}
                for i in self.issues
            ]
        }
