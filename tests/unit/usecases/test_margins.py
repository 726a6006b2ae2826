"""Margin before execution through the fakes: basketMargin's report, executeBasket's refusal when funds fall short."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tests.builders import NIFTY_CALL, NIFTY_PUT, OTHER_OWNER, OWNER
from tests.unit.usecases.given import a_stored_draft
from trading.errors import InsufficientMargin, NotFound
from trading.model import BasketStatus, OrderStatus
from trading.model.margin import Segment
from trading.usecases.execution import execute_basket
from trading.usecases.margins import account_funds, basket_margin

if TYPE_CHECKING:
    from tests.fakes import Fakes

# The straddle of `a_stored_draft`: buy the call at 120.05, sell the put; 65 units each; a sold unit blocks 1,000.
CALL_PREMIUM = Decimal("120.05") * 65
PUT_MARGIN = Decimal(1000) * 65


def test_the_report_has_each_legs_margin_the_hedge_benefit_the_charges_and_no_shortfall(fakes: Fakes) -> None:
    # Given a broker that offsets 40,000 of the pair and has 50,000 left
    basket = a_stored_draft(fakes)
    fakes.broker.hedge_benefit = Decimal(40000)
    fakes.broker.available = Decimal(50000)
    # When
    report = basket_margin(fakes.ports, OWNER, basket.id)
    # Then the legs are asked in placement order (hedge first) and the final margin is below their sum
    assert [(o.instrument, o.margin.total) for o in report.margin.orders] == [
        (NIFTY_CALL, CALL_PREMIUM),
        (NIFTY_PUT, PUT_MARGIN),
    ]
    assert report.margin.initial.total == CALL_PREMIUM + PUT_MARGIN
    assert report.margin.final.total == CALL_PREMIUM + PUT_MARGIN - 40000
    assert report.margin.hedge_benefit == Decimal(40000)
    assert report.charges.brokerage == Decimal(40)
    assert report.available == Decimal(50000)
    assert report.shortfall == Decimal(0)
    assert [f.segment for f in report.funds] == [Segment.EQUITY]


def test_the_shortfall_is_what_the_final_margin_lacks(fakes: Fakes) -> None:
    basket = a_stored_draft(fakes)
    fakes.broker.available = Decimal(10000)
    report = basket_margin(fakes.ports, OWNER, basket.id)
    assert report.shortfall == CALL_PREMIUM + PUT_MARGIN - 10000


def test_another_users_basket_is_not_found(fakes: Fakes) -> None:
    basket = a_stored_draft(fakes)
    with pytest.raises(NotFound):
        basket_margin(fakes.ports, OTHER_OWNER, basket.id)
    assert fakes.broker.margin_asks == []


def test_execution_short_of_margin_is_refused_by_how_much_and_nothing_is_written_or_sent(fakes: Fakes) -> None:
    # Given 1,000.50 less than the basket's final margin
    basket = a_stored_draft(fakes)
    needed = CALL_PREMIUM + PUT_MARGIN
    fakes.broker.available = needed - Decimal("1000.50")
    # When
    with pytest.raises(InsufficientMargin) as refused:
        execute_basket(fakes.ports, OWNER, basket.id, "go-short")
    # Then the message says by how much, and the basket is as it was: DRAFT, no orders, nothing at the broker
    assert "short by ₹1000.50" in refused.value.message
    assert f"needs ₹{needed:.2f}" in refused.value.message
    view = fakes.baskets.view(OWNER, basket.id)
    assert view.basket.status is BasketStatus.DRAFT
    assert view.basket.version == basket.version
    assert view.orders == []
    assert fakes.broker.placed == []
    # and the clientRequestId was never claimed: the same id executes once funds are there
    fakes.broker.available = needed
    assert execute_basket(fakes.ports, OWNER, basket.id, "go-short").view.basket.status is BasketStatus.LIVE


def test_the_hedge_benefit_decides_an_execution_the_legs_alone_could_not_afford(fakes: Fakes) -> None:
    # Given funds below the legs' sum but above what they block together
    basket = a_stored_draft(fakes)
    fakes.broker.hedge_benefit = Decimal(30000)
    fakes.broker.available = CALL_PREMIUM + PUT_MARGIN - 20000
    # When
    execution = execute_basket(fakes.ports, OWNER, basket.id, "go-hedged")
    # Then
    assert execution.view.basket.status is BasketStatus.LIVE
    assert len(fakes.broker.placed) == 2
    assert [r.tag for r in fakes.broker.margin_asks[0]] == [o.id for o in execution.orders]


def test_a_broker_without_a_margin_estimate_leaves_the_refusal_to_placement(fakes: Fakes) -> None:
    basket = a_stored_draft(fakes)
    fakes.broker.margin_supported = False
    fakes.broker.available = Decimal(0)
    execution = execute_basket(fakes.ports, OWNER, basket.id, "go-unsupported")
    assert execution.view.basket.status is BasketStatus.LIVE


def test_funds_are_the_brokers_for_the_segment(fakes: Fakes) -> None:
    fakes.broker.available, fakes.broker.used = Decimal("1234.50"), Decimal(100)
    funds = account_funds(fakes.ports, OWNER, None, Segment.COMMODITY)
    assert (funds.segment, funds.available, funds.used) == (Segment.COMMODITY, Decimal("1234.50"), Decimal(100))


def test_a_session_gone_at_the_margin_check_is_reported_by_placement_as_before(fakes: Fakes) -> None:
    basket = a_stored_draft(fakes)
    fakes.broker.disconnected = True
    execution = execute_basket(fakes.ports, OWNER, basket.id, "go-disconnected")
    assert execution.view.basket.status is BasketStatus.FAILED
    assert execution.orders[0].status is OrderStatus.REJECTED  # the rest are not sent (EXIT_FILLED)
    assert fakes.broker.placed == []
