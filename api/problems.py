"""Errors as RFC 9457 problem details (``application/problem+json``).

Every failure the API answers has ``type``, ``title``, ``status``, ``detail`` and a ``code``: a
refused domain rule's code, or one for its status (``UNAUTHENTICATED`` for 401, ``FORBIDDEN`` for 403,
``NOT_FOUND`` for 404, ...); a validation error adds ``errors`` naming each field. Details are the
API's own words, which never quote a stored NIK, No. KK or name; they are sent as written (masking
is for logs, and would garble an answer such as a bound of 16 digits).
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from salur_cases.domain.errors import InvalidCommand, Refusal, RefusalCode, StaleVersion
from salur_cases.identifiers import InvalidIdentifier
from salur_cases.logging import get_logger
from salur_cases.wilayah import OutsideCity

__all__ = [
    "PROBLEM_JSON",
    "ApiProblem",
    "FieldError",
    "Problem",
    "exception_handlers",
    "make_problem",
    "problem_response",
    "problem_responses",
]

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://salur.kotabogor.go.id/problems/"
NOT_FOUND_CODES = frozenset(
    {
        RefusalCode.UNKNOWN_HOUSEHOLD,
        RefusalCode.UNKNOWN_PROGRAM,
        RefusalCode.UNKNOWN_TAHAP,
        RefusalCode.UNKNOWN_COMPLAINT,
        RefusalCode.UNKNOWN_MEMBER,
    }
)
INVALID_REQUEST = "INVALID_REQUEST"
"""The code of a validation error (its ``errors`` name the fields)."""
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
"""The code of a request body above its route's limit."""
STATUS_CODES = {
    400: INVALID_REQUEST,
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    412: "STALE_VERSION",
    413: PAYLOAD_TOO_LARGE,
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: INVALID_REQUEST,
    428: "IF_MATCH_REQUIRED",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "UNAVAILABLE",
}
"""The code of a problem that has none of its own, by status."""
_MISSING = re.compile(r"missing required field `([^`]+)`")

log = get_logger(__name__)


class FieldError(msgspec.Struct, frozen=True):
    """One invalid field of a request: where (``members[0].nik``, ``limit``) and why."""

    field: str
    message: str


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem: what went wrong, its ``code``, and for invalid input the fields."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None


class ApiProblem(HTTPException):
    """A problem raised by the API itself (412, 428, 403 for another kelurahan, ...), maybe with a code."""

    def __init__(
        self, status_code: int, detail: str, *, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail=detail, status_code=status_code, headers=headers)
        self.code = code


def make_problem(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    errors: list[FieldError] | None = None,
    slug: str | None = None,
) -> Problem:
    """A problem document; without a ``code`` of its own, the status's."""
    code = code or STATUS_CODES.get(status) or HTTPStatus(status).name
    return Problem(
        type=PROBLEM_BASE + (slug or code.lower().replace("_", "-")),
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        errors=errors,
    )


def problem_response(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    slug: str | None = None,
) -> Response[Problem]:
    """A problem+json response."""
    problem = make_problem(status, detail, code=code, errors=errors, slug=slug)
    return Response(problem, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(extra: Any) -> list[FieldError]:
    """Litestar's error list as fields: ``members[0].nik``, ``limit``, ``code`` (for a missing ``code``)."""
    errors: list[FieldError] = []
    for item in extra if isinstance(extra, list) else []:
        if not isinstance(item, dict):
            continue
        key = str(item.get("key") or "")
        key = "" if key == "data" else key.removeprefix("data.")
        message = str(item.get("message") or "is not valid")
        if missing := _MISSING.search(message):
            key = f"{key}.{missing.group(1)}" if key else missing.group(1)
            message = "is required"
        errors.append(FieldError(key or "body", message))
    return errors


def _on_validation(_request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    errors = _validation_errors(exc.extra) or [FieldError("body", "is not valid")]
    return problem_response(
        422, "the request is not valid", errors=errors, code=INVALID_REQUEST, slug="validation"
    )


def _on_http(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    if isinstance(exc, ValidationException):
        return _on_validation(_request, exc)
    status = exc.status_code
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return _on_crash(_request, exc)
    if isinstance(exc, ApiProblem):
        detail, code = exc.detail, exc.code
    elif status == HTTPStatus.BAD_REQUEST:
        return problem_response(
            422,
            "the request body is not valid",
            code=INVALID_REQUEST,
            errors=[FieldError("body", exc.detail)],
            slug="validation",
        )
    else:
        # Litestar's own messages may quote the path (a No. KK): keep only our own words.
        detail = exc.detail if status in {401, 403, 429} else HTTPStatus(status).description
        code = None  # the status's own (PAYLOAD_TOO_LARGE for 413, ...)
    return problem_response(status, detail, code=code, headers=exc.headers)


def _on_refusal(_request: Request[Any, Any, Any], exc: Refusal) -> Response[Problem]:
    status = 404 if exc.code in NOT_FOUND_CODES else 409
    return problem_response(status, exc.message, code=str(exc.code))


def _on_invalid(
    _request: Request[Any, Any, Any], exc: InvalidCommand | InvalidIdentifier | OutsideCity
) -> Response[Problem]:
    code = getattr(exc, "code", None) or INVALID_REQUEST
    return problem_response(
        422,
        "the request is not valid",
        code=code,
        errors=[FieldError(exc.field, exc.message)],
        slug="validation",
    )


def _on_too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Problem]:
    log.warning(
        "request body nested too deeply", method=request.method, route=_route_of(request), error=str(exc)
    )
    return problem_response(
        422,
        "the request body is nested too deeply",
        code=INVALID_REQUEST,
        errors=[FieldError("body", "is nested too deeply")],
        slug="validation",
    )


def _on_stale(_request: Request[Any, Any, Any], exc: StaleVersion) -> Response[Problem]:
    return problem_response(
        412,
        f"the household is at version {exc.actual}, not {exc.expected}: read it again",
        code="STALE_VERSION",
        headers={"ETag": f'"{exc.actual}"'},
    )


def _on_crash(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.error("request failed", method=request.method, route=_route_of(request), exc_info=exc)
    return problem_response(500, "the server could not answer; the failure is logged")


def _route_of(request: Request[Any, Any, Any]) -> str:
    handler = request.scope.get("route_handler")
    paths = getattr(handler, "paths", None)
    return sorted(paths)[0] if paths else "?"


exception_handlers: dict[type[Exception] | int, Any] = {
    HTTPException: _on_http,
    ValidationException: _on_validation,
    Refusal: _on_refusal,
    InvalidCommand: _on_invalid,
    InvalidIdentifier: _on_invalid,
    OutsideCity: _on_invalid,
    StaleVersion: _on_stale,
    RecursionError: _on_too_deep,  # msgspec decoding a body nested thousands deep
    Exception: _on_crash,
}
"""Litestar's ``exception_handlers`` for every failure the API answers."""

_DESCRIPTIONS = {
    401: "No bearer token, or an invalid or expired one",
    403: "The token's role (or kelurahan) may not do this",
    404: "Unknown household, program or tahap (with `code`)",
    409: "A domain rule refused the command (with `code`); nothing was written",
    412: "Stale `If-Match`: the household changed since it was read",
    422: "Invalid input; `errors` names each field",
    428: "`If-Match` is required for a household write",
    429: "Too many requests; see `Retry-After`",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI documentation of the problem answers a handler may give."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=_DESCRIPTIONS[status],
            generate_examples=False,
        )
        for status in statuses
    }
