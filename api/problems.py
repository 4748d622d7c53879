"""The platform's problem details: :mod:`httpkit.problems`, shared with the gateway and the vendor stand-in."""

from httpkit.problems import (  # noqa: F401  (the platform's modules import them from here)
    Problem,
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    TooManyRequests,
    ServiceUnavailable,
    problem_response,
    declare_problems,
    install,
    PROBLEM_BASE,
    MEDIA_TYPE,
    PROBLEM_SCHEMA,
    PROBLEM_CONTENT,
    ERROR_RESPONSES,
)
