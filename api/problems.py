"""Errors as RFC 9457 problem details (``application/problem+json``).

Services raise :class:`Problem` subclasses that carry their HTTP status; one set of
handlers renders them, validation errors, unknown routes and an unreachable chain alike.
"""

from __future__ import annotations

import logging

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chain.errors import ChainUnavailable, ContractRevert, NotDeployed

log = logging.getLogger("govchain.api")
PROBLEM_BASE = "https://govchain.example/problems/"
MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(Problem):
    pass


class Unauthorized(Problem):
    status, title, slug = 401, "Not signed in", "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(Problem):
    status, title, slug = 403, "Not allowed", "forbidden"


class NotFound(Problem):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(Problem):
    status, title, slug = 409, "Conflict", "conflict"


class PayloadTooLarge(Problem):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class ServiceUnavailable(Problem):
    status, title, slug = 503, "Service unavailable", "service-unavailable"
    headers = {"Retry-After": "5"}


def problem_response(status: int, title: str, slug: str, detail: str, headers: dict | None = None, **extra) -> JSONResponse:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(exc.status, exc.title, exc.slug, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        return problem_response(422, "Invalid request", "validation-error", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        titles = {404: ("Not found", "not-found"), 405: ("Method not allowed", "method-not-allowed")}
        title, slug = titles.get(exc.status_code, ("HTTP error", "http-error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route for {request.method} {request.url.path}"
        return problem_response(exc.status_code, title, slug, detail, getattr(exc, "headers", None))

    @app.exception_handler(ChainUnavailable)
    @app.exception_handler(requests.ConnectionError)
    async def _chain_down(request: Request, exc: Exception):
        return problem_response(
            503, "Chain unavailable", "chain-unavailable",
            "the blockchain node cannot be reached; nothing was written, try again shortly",
            {"Retry-After": "5"},
        )  # fmt: skip

    @app.exception_handler(NotDeployed)
    async def _not_deployed(request: Request, exc: NotDeployed):
        return problem_response(503, "Contracts not deployed", "not-deployed", str(exc), {"Retry-After": "30"})

    @app.exception_handler(ContractRevert)
    async def _revert(request: Request, exc: ContractRevert):
        return problem_response(409, "Refused by contract", "contract-revert", str(exc), error=exc.name)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "Internal error", "internal-error", "an unexpected error occurred; it was logged")
