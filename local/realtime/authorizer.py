"""Who may start a subscription: the verifier and authorizer an endpoint is given, and the authorizer
that runs the resolver Lambda's Subscription resolver, as AppSync does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Refusal:
    """Why a subscription may not start, with the errorType the client sees."""

    message: str
    error_type: str = "Unauthorized"


AuthorizeResult = str | Refusal | None
Authorize = Callable[[str, dict[str, Any], dict[str, Any]], AuthorizeResult | Awaitable[AuthorizeResult]]
"""`authorize(field_name, arguments, identity_event)`: None to allow, else a message or `Refusal`."""


class CallerIdentity(Protocol):
    def to_event(self) -> dict[str, Any]: ...


class Verifier(Protocol):
    def verify(self, authorization: str | None) -> CallerIdentity: ...


def lambda_authorizer(invoke: Callable[[dict[str, Any]], Any]) -> Authorize:
    """An `authorize` that runs the resolver Lambda's Subscription resolver, as AppSync does before a
    subscription starts. `invoke(event)` calls the handler; a `{"error": {"type", "message"}}` result refuses.
    """

    def authorize(field_name: str, arguments: dict[str, Any], identity: dict[str, Any]) -> Refusal | None:
        event: dict[str, Any] = {
            "arguments": arguments,
            "identity": identity,
            "source": None,
            "request": {"headers": {}, "domainName": None},
            "prev": None,
            "info": {
                "fieldName": field_name,
                "parentTypeName": "Subscription",
                "variables": {},
                "selectionSetList": [],
                "selectionSetGraphQL": "",
            },
            "stash": {},
        }
        result = invoke(event)
        if isinstance(result, dict) and isinstance(result.get("error"), dict):
            error = result["error"]
            return Refusal(
                str(error.get("message") or "subscription refused"), str(error.get("type") or "Unauthorized")
            )
        return None

    return authorize
