"""Domain errors to GraphQL errors: the registry every entrypoint uses, keyed by type, never by text.

A resolver that fails returns `{"error": {"type", "message"}}`; AppSync's response function
(`resolvers/response.js`) and the local emulator both turn it into a GraphQL error with that
`errorType`, so clients see the same thing on both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trading.errors import DomainError

INTERNAL = "InternalError"


def error_payload(error_type: str, message: str) -> dict[str, Any]:
    return {"error": {"type": error_type, "message": message}}


def from_domain(exc: DomainError) -> dict[str, Any]:
    return error_payload(exc.error_type, exc.message)


def internal(request_id: str | None) -> dict[str, Any]:
    reference = f" (request {request_id})" if request_id else ""
    return error_payload(INTERNAL, f"something went wrong on our side{reference}; it has been logged")
