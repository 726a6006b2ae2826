"""The idempotency record: one per (owner, clientRequestId), IN_PROGRESS while claimed, then DONE with its result."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from store.items.attributes import deserialize, serialize, timestamp
from store.items.keys import request_key

if TYPE_CHECKING:
    from collections.abc import Mapping

    from store.items.attributes import Item

IN_PROGRESS = "IN_PROGRESS"
DONE = "DONE"


def claim_item(
    owner: str, client_request_id: str, operation: str, fingerprint: str, *, now: int, expires_at: int
) -> Item:
    """The IN_PROGRESS record a claim puts; `now` and `expires_at` are epoch seconds."""
    return {
        **request_key(owner, client_request_id),
        **serialize(
            {
                "type": "Request",
                "owner": owner,
                "clientRequestId": client_request_id,
                "operation": operation,
                "fingerprint": fingerprint,
                "state": IN_PROGRESS,
                "createdAt": timestamp(datetime.fromtimestamp(now, UTC)),
                "expiresAt": expires_at,
            }
        ),
    }


def result_text(result: dict[str, Any]) -> str:
    """The stored form of a finished request's result."""
    return json.dumps(result, separators=(",", ":"))


@dataclass(frozen=True)
class RequestRecord:
    """What a stored record says about the request that holds the id."""

    operation: str
    fingerprint: str
    state: str
    expires_at: int
    result: str | None

    def result_value(self) -> dict[str, Any]:
        """The finished request's result (only for a DONE record)."""
        if self.result is None:
            raise ValueError("the request record holds no result; only a DONE record has one")
        value: dict[str, Any] = json.loads(self.result)
        return value


def record_of(item: Mapping[str, Any]) -> RequestRecord:
    v = deserialize(item)
    return RequestRecord(
        operation=v["operation"],
        fingerprint=v["fingerprint"],
        state=v["state"],
        expires_at=int(v.get("expiresAt", 0)),
        result=v.get("result"),
    )
