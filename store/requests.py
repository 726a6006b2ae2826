"""`trading.ports.Requests` over the table: idempotency records claimed, awaited, completed and released."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from store.errors import translated
from store.items.attributes import typed
from store.items.keys import request_key
from store.items.request import DONE, IN_PROGRESS, claim_item, record_of, result_text
from store.table import Table
from trading.errors import Conflict

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb import DynamoDBClient

    from store.items.attributes import Item
    from trading.ids import ClientRequestId, OwnerId

REQUEST_TTL_SECONDS = 7 * 24 * 3600


class DynamoRequests:
    """`trading.ports.Requests`: one idempotency record per (owner, clientRequestId), kept 7 days."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        wait_seconds: float = 15.0,
        poll_seconds: float = 0.1,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._table = Table(client, table_name)
        self._wait = wait_seconds
        self._poll = poll_seconds
        self._now = now

    def claim(
        self, owner: OwnerId, client_request_id: ClientRequestId, operation: str, fingerprint: str
    ) -> dict[str, Any] | None:
        """Claim the id; None when claimed now, else the first request's result once it is done.

        Raises
        ------
        Conflict
            The id was used for a different request, or the first request is still running
            after the wait.
        """
        key = request_key(owner, client_request_id)
        deadline = time.monotonic() + self._wait
        while True:
            if self._try_claim(owner, client_request_id, operation, fingerprint):
                return None
            result = self._result(key, client_request_id, operation, fingerprint, deadline)
            if result is not None:
                return result
            # the first request released its claim (it failed): try to claim it again

    def find(
        self, owner: OwnerId, client_request_id: ClientRequestId, operation: str, fingerprint: str
    ) -> dict[str, Any] | None:
        """The result of an earlier request with this id, waiting while it runs; None if there was none.

        Raises
        ------
        Conflict
            As `claim`.
        """
        key = request_key(owner, client_request_id)
        return self._result(key, client_request_id, operation, fingerprint, time.monotonic() + self._wait)

    def _result(
        self, key: Item, client_request_id: str, operation: str, fingerprint: str, deadline: float
    ) -> dict[str, Any] | None:
        """Wait for a live record to be DONE and return its result; None when there is no live record."""
        item = self._table.get(key)
        while item is not None:
            record = record_of(item)
            if record.expires_at < int(self._now()):
                return None  # expired: it no longer holds the id
            if record.fingerprint != fingerprint or record.operation != operation:
                raise Conflict(f"clientRequestId {client_request_id} was already used for a different request")
            if record.state == DONE:
                return record.result_value()
            if time.monotonic() >= deadline:
                raise Conflict(f"request {client_request_id} is still being processed; retry later")
            time.sleep(self._poll)
            item = self._table.get(key)
        return None

    def _try_claim(self, owner: OwnerId, client_request_id: ClientRequestId, operation: str, fingerprint: str) -> bool:
        now = int(self._now())
        item = claim_item(
            owner, client_request_id, operation, fingerprint, now=now, expires_at=now + REQUEST_TTL_SECONDS
        )
        try:
            # an expired record may outlive its TTL for a while; it no longer holds the id
            with translated(f"clientRequestId {client_request_id} is taken"):
                self._table.client.put_item(
                    TableName=self._table.name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(PK) OR expiresAt < :now",
                    ExpressionAttributeValues={":now": typed(now)},
                )
        except Conflict:
            return False
        return True

    def complete(self, owner: OwnerId, client_request_id: ClientRequestId, result: dict[str, Any]) -> None:
        """Store the result a repeat of this request gets.

        Raises
        ------
        Conflict
            The claim no longer exists.
        """
        with translated(f"request {client_request_id} is no longer claimed"):
            self._table.client.update_item(
                TableName=self._table.name,
                Key=request_key(owner, client_request_id),
                UpdateExpression="SET #state = :done, #result = :result",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#state": "state", "#result": "result"},
                ExpressionAttributeValues={
                    ":done": typed(DONE),
                    ":result": typed(result_text(result)),
                },
            )

    def release(self, owner: OwnerId, client_request_id: ClientRequestId) -> None:
        """Drop an unfinished claim so the request can be retried; a finished one is kept."""
        try:
            with translated(f"request {client_request_id} is already done"):
                self._table.client.delete_item(
                    TableName=self._table.name,
                    Key=request_key(owner, client_request_id),
                    ConditionExpression="#state = :in_progress",
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues={":in_progress": typed(IN_PROGRESS)},
                )
        except Conflict:
            pass
