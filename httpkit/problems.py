"""Errors as RFC 9457 problem details (``application/problem+json``), for every govchain service
(the platform API, the data holders' gateways, the face-vendor stand-in).

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
from sqlalchemy.exc import TimeoutError as PoolTimeout
from web3.exceptions import Web3RPCError

from chain.errors import ChainUnavailable, ContractRevert, NotDeployed
from chain.node_errors import is_revert

log = logging.getLogger("govchain.http")
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


class TooManyRequests(Problem):
    status, title, slug = 429, "Too many requests", "too-many-requests"

    def __init__(self, detail: str, retry_after: int, **extra):
        super().__init__(detail, **extra)
        self.headers = {"Retry-After": str(retry_after)}


class ServiceUnavailable(Problem):
    status, title, slug = 503, "Service unavailable", "service-unavailable"
    headers = {"Retry-After": "5"}


def problem_response(status: int, title: str, slug: str, detail: str, headers: dict | None = None, **extra) -> JSONResponse:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


PROBLEM_SCHEMA = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details; some problems carry more members (reason, errors, missing ...)",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
    },
    "additionalProperties": True,
}  # fmt: skip
PROBLEM_CONTENT = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
ERROR_RESPONSES = {"4XX": "refused: the problem details say why", "503": "a dependency (chain, gateway, vendor) is unavailable; retry later"}


def declare_problems(spec: dict) -> dict:
    """Declare every error answer in the OpenAPI document as what it is: problem details.

    FastAPI declares 422 as ``application/json`` HTTPValidationError, but the handlers here
    answer every error (422 included) as ``application/problem+json`` :data:`PROBLEM_SCHEMA`;
    routes that name an error status keep their description and get the problem schema, unless
    they declare a body of their own (health's 503 is its usual report)."""
    spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, response in responses.items():
                if status[:1] in "45" and ("content" not in response or status == "422"):
                    response["content"] = PROBLEM_CONTENT
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(status, {"description": description, "content": PROBLEM_CONTENT})
    spec["components"]["schemas"].pop("HTTPValidationError", None)
    spec["components"]["schemas"].pop("ValidationError", None)
    return spec


def install(app: FastAPI) -> None:
    original_openapi = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = declare_problems(original_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the generated schema

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(exc.status, exc.title, exc.slug, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
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

    @app.exception_handler(Web3RPCError)
    async def _node_error(request: Request, exc: Web3RPCError):
        message = str(exc.message if hasattr(exc, "message") else exc)
        if is_revert(exc):  # a refusal nobody named: a bug, not an outage
            return await _unexpected(request, exc)
        # the node is up but cannot serve (ganache answers "Database is not open" while it stops or starts)
        return problem_response(
            503, "Chain unavailable", "chain-unavailable",
            f"the blockchain node could not serve the request ({message[:120]}); nothing was written, try again shortly",
            {"Retry-After": "5"},
        )  # fmt: skip

    @app.exception_handler(PoolTimeout)
    async def _database_busy(request: Request, exc: PoolTimeout):  # every database connection stayed in use
        return problem_response(503, "Service busy", "overloaded", "the database is busy; nothing was done, try again shortly", {"Retry-After": "2"})

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
