"""Queries through the fakes: P&L at the latest marks, pages of baskets and orders, instrument search."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

import pytest

from tests.builders import NIFTY_CALL, NIFTY_PUT, NOW, OTHER_OWNER, OWNER, a_basket
from tests.unit.usecases.given import a_live_basket
from trading.errors import NotFound, ValidationError
from trading.usecases.queries import MAX_PAGE, basket_pnl, list_baskets, list_orders, search_instruments

if TYPE_CHECKING:
    from tests.fakes import Fakes


def test_basket_pnl_values_each_position_at_its_mark_or_its_own_average(fakes: Fakes) -> None:
    # Given long call at 120.05 and short put at 98.35, 65 each; only the call has a mark
    basket = a_live_basket(fakes)
    fakes.marks.prices = {NIFTY_CALL: Decimal("125.05")}
    # When
    report = basket_pnl(fakes.ports, OWNER, basket.id)
    # Then the call made 5 * 65 and the unmarked put is flat at its own price
    by_ref = {row.position.key.instrument: row for row in report.positions}
    assert by_ref[NIFTY_CALL].pnl == Decimal("325.00")
    assert (by_ref[NIFTY_PUT].last_price, by_ref[NIFTY_PUT].pnl) == (None, Fraction(0))  # unmarked: its realised
    assert (report.pnl, report.realised, report.unrealised) == (Fraction("325.00"), Fraction(0), Fraction("325.00"))


def test_basket_pnl_is_as_of_its_latest_mark_or_fill(fakes: Fakes) -> None:
    # Given a LIVE basket whose fills are recorded, and no mark yet
    basket = a_live_basket(fakes)
    filled = max(f.filled_at for p in fakes.orders.positions.values() for f in p.fills)
    # Then its P&L is as of its last fill
    assert basket_pnl(fakes.ports, OWNER, basket.id).as_of == filled
    # And once a mark later than that arrives, as of the mark; a mark of an instrument it does not hold changes nothing
    fakes.marks.prices = {NIFTY_CALL: Decimal("125.05")}
    fakes.marks.at = {NIFTY_CALL: filled + timedelta(seconds=30)}
    assert basket_pnl(fakes.ports, OWNER, basket.id).as_of == filled + timedelta(seconds=30)
    other = type(NIFTY_CALL)("NSE", "INFY")
    fakes.marks.at[other] = filled + timedelta(hours=1)
    assert basket_pnl(fakes.ports, OWNER, basket.id).as_of == filled + timedelta(seconds=30)


def test_an_empty_baskets_pnl_is_as_of_nothing(fakes: Fakes) -> None:
    basket = a_basket()
    fakes.baskets.add(basket)
    assert basket_pnl(fakes.ports, OWNER, basket.id).as_of is None


def test_another_users_basket_pnl_is_not_found(fakes: Fakes) -> None:
    basket = a_live_basket(fakes)
    with pytest.raises(NotFound):
        basket_pnl(fakes.ports, OTHER_OWNER, basket.id)


def test_baskets_come_a_page_at_a_time_newest_first(fakes: Fakes) -> None:
    baskets = [a_basket(name=f"b{i}", created_at=NOW + timedelta(minutes=i)) for i in range(3)]
    for basket in baskets:
        fakes.baskets.add(basket)
    fakes.baskets.add(a_basket(owner=OTHER_OWNER))
    first = list_baskets(fakes.ports, OWNER, 2, None)
    second = list_baskets(fakes.ports, OWNER, 2, first.next_token)
    assert [b.name for b in first.items + second.items] == ["b2", "b1", "b0"]
    assert second.next_token is None


def test_orders_are_listed_per_basket(fakes: Fakes) -> None:
    one, two = a_live_basket(fakes), a_live_basket(fakes)
    page = list_orders(fakes.ports, OWNER, 10, None, basket_id=one.id)
    assert {o.basket_id for o in page.items} == {one.id}
    assert len(list_orders(fakes.ports, OWNER, 10, None).items) == 4
    assert two.id != one.id


@pytest.mark.parametrize("limit", [0, MAX_PAGE + 1])
def test_a_page_size_out_of_range_is_refused(fakes: Fakes, limit: int) -> None:
    with pytest.raises(ValidationError, match="limit must be between"):
        list_baskets(fakes.ports, OWNER, limit, None)


def test_instrument_search_normalises_and_checks_its_input(fakes: Fakes) -> None:
    found = search_instruments(fakes.ports, " nifty ", "nfo", 10)
    assert [i.ref for i in found] == [NIFTY_CALL, NIFTY_PUT]
    with pytest.raises(ValidationError, match="1-50 characters"):
        search_instruments(fakes.ports, " ", None, 10)
    with pytest.raises(ValidationError, match="exchange must be one of"):
        search_instruments(fakes.ports, "NIFTY", "LSE", 10)
