"""Publishers behind `trading.ports.Publisher`: AppSync over IAM-signed HTTPS, and the local emulator."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from subscriptions.selection import publish_document

if TYPE_CHECKING:
    from collections.abc import Callable

    from trading.ports import LiveEvent

# kind -> (publish mutation, the type it returns)
MUTATIONS = {
    "order": ("publishOrderUpdate", "OrderEvent"),
    "fill": ("publishFill", "FillEvent"),
    "pnl": ("publishPnl", "PnlEvent"),
    "basket": ("publishBasketUpdate", "BasketEvent"),
    "risk": ("publishRiskState", "RiskStateEvent"),
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
    """Sends publish mutations to AppSync over HTTPS, signed with the function's IAM role (SigV4).

    gql's `AppSyncIAMAuthentication` signs the exact request body; `credentials` default to the
    environment's (the Lambda role's).
    """

    def __init__(self, url: str, region: str, timeout: float = 10.0, *, credentials: Any = None) -> None:
        import requests
        from gql.transport.appsync_auth import AppSyncIAMAuthentication

        self.url = url
        self._auth = AppSyncIAMAuthentication(host=urlsplit(url).netloc, region_name=region, credentials=credentials)
        self._http = requests.Session()
        self._timeout = timeout

    def publish(self, event: LiveEvent) -> None:
        import requests

        mutation, payload_type = MUTATIONS[event.kind]
        body = json.dumps({"query": publish_document(mutation, payload_type), "variables": variables(event)})
        headers = self._auth.get_headers(body)
        try:
            reply = self._http.post(self.url, data=body.encode(), headers=headers, timeout=self._timeout)
        except requests.RequestException as exc:
            raise PublishFailed(f"AppSync did not answer {mutation}: {exc}") from exc
        try:
            answer = reply.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise PublishFailed(f"AppSync answered {mutation} with HTTP {reply.status_code} and no GraphQL body")
        _check(answer.get("errors"))
        if reply.status_code != HTTPStatus.OK or answer.get("data") is None:
            raise PublishFailed(f"AppSync answered {mutation} with HTTP {reply.status_code}: {answer}")


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
