"""Publishers behind `trading.ports.Publisher`: AppSync over IAM-signed HTTPS, and the local emulator."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from subscriptions.selection import publish_document

if TYPE_CHECKING:
    from collections.abc import Callable

    from trading.ports import LiveEvent

# kind -> (publish mutation, the type it returns)
MUTATIONS = {
    "order": ("publishOrderUpdate", "OrderEvent"),
    "fill": ("publishFill", "FillEvent"),
    "pnl": ("publishPnl", "PnlEvent"),
}
ALREADY_DELIVERED = "AlreadyDelivered"


class PublishFailed(Exception):
    """The publish mutation was refused or could not be sent; the stream record is retried."""


def variables(event: LiveEvent) -> dict[str, Any]:
    return {
        "eventId": event.event_id,
        "ownerId": event.owner,
        "basketId": event.basket_id,
        "payload": json.dumps(event.payload, separators=(",", ":")),
    }


def _check(errors: list[dict[str, Any]] | None) -> None:
    """A repeat of a delivered event is fine (that is the idempotency); anything else is a failure."""
    for error in errors or []:
        if error.get("errorType") != ALREADY_DELIVERED:
            raise PublishFailed(f"{error.get('errorType')}: {error.get('message')}")


class AppSyncPublisher:
    """Sends publish mutations to AppSync, signed with the function's IAM role (SigV4)."""

    def __init__(self, url: str, region: str, timeout: float = 10.0) -> None:
        from gql import Client
        from gql.transport.appsync_auth import AppSyncIAMAuthentication
        from gql.transport.requests import RequestsHTTPTransport

        host = url.split("//", 1)[-1].split("/", 1)[0]
        auth = AppSyncIAMAuthentication(host=host, region_name=region)
        transport = RequestsHTTPTransport(url=url, auth=auth, timeout=timeout, retries=0)  # type: ignore[arg-type]
        self._client = Client(transport=transport, fetch_schema_from_transport=False)

    def publish(self, event: LiveEvent) -> None:
        from gql import gql
        from gql.transport.exceptions import TransportQueryError

        mutation, payload_type = MUTATIONS[event.kind]
        try:
            self._client.execute(gql(publish_document(mutation, payload_type)), variable_values=variables(event))
        except TransportQueryError as exc:
            _check(exc.errors)


class LocalPublisher:
    """Runs the publish mutation through the local emulator, as the IAM-signed publisher does on AWS.

    `execute(document, variables)` returns the GraphQL response body (dict with data/errors).
    """

    def __init__(self, execute: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
        self._execute = execute

    def publish(self, event: LiveEvent) -> None:
        mutation, payload_type = MUTATIONS[event.kind]
        body = self._execute(publish_document(mutation, payload_type), variables(event))
        _check(body.get("errors"))
