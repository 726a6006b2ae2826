"""The broker registry: one session per owner and broker, and refusals reported to the accounts side."""

from __future__ import annotations

from typing import Any

import pytest

from brokers.registry import AccountBrokers
from tests.fakes import MemorySecrets
from trading.errors import BrokerNotConnected
from trading.ids import BrokerOrderId, OwnerId

ALICE, BOB = OwnerId("alice"), OwnerId("bob")


class RefusingBroker:
    name = "kite"

    def __init__(self) -> None:
        self.calls = 0

    def place_order(self, request: Any) -> BrokerOrderId:
        self.calls += 1
        raise BrokerNotConnected("kite session expired or invalid; reconnect the broker account")

    def cancel_order(self, broker_order_id: Any, variety: Any) -> None:
        raise NotImplementedError

    def order_update(self, broker_order_id: Any) -> Any:
        raise NotImplementedError

    def order_fills(self, order: Any) -> list[Any]:
        raise NotImplementedError


def test_the_registry_builds_each_owners_session_once_and_reports_refusals() -> None:
    # Given
    secrets = MemorySecrets()
    secrets.put("/alice/kite/access_token", "tok")
    built: list[tuple[str, str | None]] = []
    inner = RefusingBroker()

    def factory(owner: OwnerId, read: Any) -> RefusingBroker | None:
        built.append((owner, read("access_token")))
        return inner if read("access_token") else None

    registry = AccountBrokers({"kite": factory}, secrets, default="kite")
    refusals: list[tuple[str, str, str]] = []
    registry.on_refused(lambda owner, broker, reason: refusals.append((owner, broker, reason)))

    # When / Then: one session per owner, a clear refusal for whoever has none
    assert registry.for_owner(ALICE) is registry.for_owner(ALICE, "KITE")
    assert built == [(ALICE, "tok")]
    with pytest.raises(BrokerNotConnected, match="your KITE account is not connected"):
        registry.for_owner(BOB)
    with pytest.raises(BrokerNotConnected, match="ANGEL is not available on this deployment"):
        registry.for_owner(ALICE, "angel")

    # When the broker refuses the session
    with pytest.raises(BrokerNotConnected, match="reconnect it with connectBroker") as refused:
        registry.for_owner(ALICE).place_order(None)

    # Then the accounts side hears it, the cache is dropped, and the token never shows
    assert refusals == [(ALICE, "kite", "kite session expired or invalid; reconnect the broker account")]
    assert "tok" not in refused.value.message
    registry.for_owner(ALICE)
    assert len(built) == 3  # rebuilt after the refusal (BOB's attempt was the second)
