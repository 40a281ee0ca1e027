"""RFC 9457 problem documents for every error the API answers with."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from sharpeyes.core.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    SharpEyesError,
    TooLargeError,
    TooManyAttemptsError,
    UnavailableError,
)

logger = logging.getLogger(__name__)
PROBLEM_MEDIA_TYPE = "application/problem+json"
_STATUS_BY_ERROR: tuple[tuple[type[SharpEyesError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (AuthenticationError, 401),
    (ForbiddenError, 403),
    (TooManyAttemptsError, 429),
    (UnavailableError, 503),
    (TooLargeError, 413),
)


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://sharpeyes.dev/problems/{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update(extra or {})
    all_headers = dict(headers or {})
    if status == 401:
        all_headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=all_headers)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SharpEyesError)
        status = next((code for kind, code in _STATUS_BY_ERROR if isinstance(exc, kind)), 500)
        headers = {"Retry-After": str(math.ceil(exc.retry_after_s))} if isinstance(exc, TooManyAttemptsError) else None
        return problem_response(status, exc.code, exc.message, instance=request.url.path, headers=headers)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return problem_response(
            exc.status_code, f"http_{exc.status_code}", str(exc.detail), instance=request.url.path, headers=exc.headers
        )

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"field": ".".join(str(part) for part in error["loc"] if part != "body"), "reason": error["msg"]}
            for error in exc.errors()
        ]
        fields = ", ".join(error["field"] or "body" for error in errors)
        return problem_response(
            422, "invalid_request", f"invalid request: {fields}", instance=request.url.path, extra={"errors": errors}
        )

    async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(
            500, "internal_error", "something went wrong on the server; it has been logged", instance=request.url.path
        )

    app.add_exception_handler(Exception, on_unexpected_error)
    app.add_exception_handler(SharpEyesError, on_domain_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
