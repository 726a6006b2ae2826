"""Margin, charges and funds across the adapters: what each venue answers, or NotSupported where it is not mapped."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tests.contract.test_adapter_contract import TICKET
from trading.errors import NotSupported
from trading.model.margin import Segment

if TYPE_CHECKING:
    from tests.contract.venues import Venue

# What each venue has for funds: the paper exchange without a limit, Angel's recorded RMS limits.
FUNDS = {"kite-paper": Decimal(10**12), "angel": Decimal("125000.00")}
MARGIN = {"kite-paper"}


def test_funds_are_the_venues_or_not_supported(venue: Venue) -> None:
    if venue.name not in FUNDS:
        with pytest.raises(NotSupported, match="not supported for"):
            venue.broker.funds(Segment.EQUITY)
        return
    funds = venue.broker.funds(Segment.EQUITY)
    assert (funds.segment, funds.available, funds.used) == (Segment.EQUITY, FUNDS[venue.name], 0)


def test_basket_margin_and_charges_are_the_venues_or_not_supported(venue: Venue) -> None:
    if venue.name not in MARGIN:
        with pytest.raises(NotSupported, match="not supported for"):
            venue.broker.basket_margin([TICKET])
        with pytest.raises(NotSupported, match="not supported for"):
            venue.broker.charges([TICKET])
        return
    margin = venue.broker.basket_margin([TICKET])
    premium = TICKET.price * TICKET.quantity  # type: ignore[operator]
    assert (margin.initial.total, margin.final.total) == (premium, premium)
    [charges] = venue.broker.charges([TICKET])
    assert charges.brokerage == 20
