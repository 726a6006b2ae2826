"""Idempotency by clientRequestId through the fakes: a repeat returns the first result and does nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.builders import OWNER
from tests.unit.usecases.given import a_live_basket, a_stored_draft
from trading.errors import Conflict, ValidationError
from trading.model import BasketStatus
from trading.usecases.baskets import create_basket
from trading.usecases.execution import execute_basket
from trading.usecases.exits import exit_basket

if TYPE_CHECKING:
    from tests.fakes import Fakes


def test_a_replayed_execution_returns_the_first_result_and_places_nothing(fakes: Fakes) -> None:
    # Given an executed basket
    draft = a_stored_draft(fakes)
    first = execute_basket(fakes.ports, OWNER, draft.id, "same-id")
    # When the same request comes again (a client retry)
    again = execute_basket(fakes.ports, OWNER, draft.id, "same-id")
    # Then
    assert [o.id for o in again.orders] == [o.id for o in first.orders]
    assert len(fakes.broker.placed) == 2


def test_a_replayed_exit_returns_the_first_exit(fakes: Fakes) -> None:
    basket = a_live_basket(fakes)
    first = exit_basket(fakes.ports, OWNER, basket.id, "exit-id")
    again = exit_basket(fakes.ports, OWNER, basket.id, "exit-id")
    assert [o.id for o in again.orders] == [o.id for o in first.orders]
    assert again.view.basket.status is BasketStatus.EXITING


def test_an_id_reused_for_a_different_request_is_a_conflict(fakes: Fakes) -> None:
    one, two = a_stored_draft(fakes), a_stored_draft(fakes)
    execute_basket(fakes.ports, OWNER, one.id, "reused")
    with pytest.raises(Conflict, match="different request"):
        execute_basket(fakes.ports, OWNER, two.id, "reused")
    assert fakes.baskets.get(OWNER, two.id).status is BasketStatus.DRAFT


def test_a_request_that_fails_validation_claims_nothing_and_can_be_retried(fakes: Fakes) -> None:
    # Given a draft without legs: executing it fails before any write
    empty = create_basket(fakes.ports, OWNER, "empty")
    with pytest.raises(ValidationError, match="no legs"):
        execute_basket(fakes.ports, OWNER, empty.id, "retry-me")
    assert fakes.requests.records == {}


def test_a_request_that_fails_midway_releases_its_claim(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a store that fails to write the orders, after the claim
    draft = a_stored_draft(fakes)

    def fail(orders: object) -> None:
        raise Conflict("the store is having a bad day")

    monkeypatch.setattr(fakes.orders, "add_all", fail)
    # When
    with pytest.raises(Conflict, match="bad day"):
        execute_basket(fakes.ports, OWNER, draft.id, "released")
    # Then the id is free again for the retry
    assert fakes.requests.records == {}
    monkeypatch.undo()
    fakes.baskets.baskets[draft.id].status = BasketStatus.DRAFT  # the first try's save is not rolled back
    assert len(execute_basket(fakes.ports, OWNER, draft.id, "released").orders) == 2


@pytest.mark.parametrize("crid", ["", "   ", "x" * 65, "tab\there"])
def test_a_malformed_client_request_id_is_refused(fakes: Fakes, crid: str) -> None:
    draft = a_stored_draft(fakes)
    with pytest.raises(ValidationError, match="clientRequestId"):
        execute_basket(fakes.ports, OWNER, draft.id, crid)
