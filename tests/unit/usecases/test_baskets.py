"""Basket editing through the fakes: create, update, delete, strategies, legs, versions, schedules."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from tests.builders import NIFTY_CALL, NIFTY_PUT, OTHER_OWNER, OWNER, a_leg_input
from tests.fakes import Fakes
from trading.clock import IST
from trading.errors import Conflict, NotFound, ValidationError
from trading.ids import LegId
from trading.model import BasketStatus, PartialFailurePolicy, RiskLimits, Schedule, Side
from trading.usecases.baskets import (
    add_strategy,
    create_basket,
    delete_basket,
    put_leg,
    remove_leg,
    remove_strategy,
    rename_strategy,
    update_basket,
)


def test_a_created_basket_is_stored_as_a_draft_with_validated_legs(fakes: Fakes) -> None:
    # When
    basket = create_basket(
        fakes.ports, OWNER, " weekly straddle ", [("straddle", [a_leg_input(), a_leg_input(lots=2, side=Side.SELL)])]
    )
    # Then
    stored = fakes.baskets.get(OWNER, basket.id)
    assert (stored.name, stored.status, stored.version) == ("weekly straddle", BasketStatus.DRAFT, 1)
    assert [(leg.instrument, leg.side, leg.lots) for _, leg in stored.legs] == [
        (NIFTY_CALL, Side.BUY, 1),
        (NIFTY_CALL, Side.SELL, 2),
    ]


def test_an_unknown_instrument_or_an_off_tick_price_writes_nothing(fakes: Fakes) -> None:
    with pytest.raises(ValidationError, match="unknown instrument"):
        create_basket(fakes.ports, OWNER, "b", [("s", [a_leg_input(tradingsymbol="NOPE")])])
    with pytest.raises(ValidationError):
        create_basket(fakes.ports, OWNER, "b", [("s", [a_leg_input(price=Decimal("120.03"))])])
    assert fakes.baskets.baskets == {}


def test_each_edit_bumps_the_version_and_a_stale_version_is_a_conflict(fakes: Fakes) -> None:
    # Given
    basket = create_basket(fakes.ports, OWNER, "b")
    # When
    one = update_basket(fakes.ports, OWNER, basket.id, 1, name="renamed", risk=RiskLimits(Decimal(900)))
    # Then
    assert (one.version, fakes.baskets.get(OWNER, basket.id).name) == (2, "renamed")
    with pytest.raises(Conflict, match="not 1"):
        update_basket(fakes.ports, OWNER, basket.id, 1, name="late")


def test_strategies_and_legs_are_added_renamed_replaced_and_removed(fakes: Fakes) -> None:
    # Given
    basket = create_basket(fakes.ports, OWNER, "b")
    # When
    b = add_strategy(fakes.ports, OWNER, basket.id, 1, "straddle", [a_leg_input()])
    strategy = b.strategies[0]
    b = rename_strategy(fakes.ports, OWNER, basket.id, 2, strategy.id, "hedged")
    put = a_leg_input(tradingsymbol=NIFTY_PUT.tradingsymbol, side=Side.SELL, price=Decimal("98.35"))
    b = put_leg(fakes.ports, OWNER, basket.id, 3, strategy.id, put)
    first = b.strategies[0].legs[0]
    b = put_leg(fakes.ports, OWNER, basket.id, 4, strategy.id, a_leg_input(lots=3), first.id)
    # Then
    assert b.strategies[0].name == "hedged"
    assert [(leg.id == first.id, leg.lots) for leg in b.strategies[0].legs] == [(True, 3), (False, 1)]
    b = remove_leg(fakes.ports, OWNER, basket.id, 5, first.id)
    assert [leg.instrument for _, leg in b.legs] == [NIFTY_PUT]
    b = remove_strategy(fakes.ports, OWNER, basket.id, 6, strategy.id)
    assert (b.strategies, fakes.baskets.get(OWNER, basket.id).version) == ([], 7)


def test_replacing_a_leg_the_strategy_does_not_have_is_refused(fakes: Fakes) -> None:
    basket = create_basket(fakes.ports, OWNER, "b", [("s", [a_leg_input()])])
    strategy = basket.strategies[0]
    with pytest.raises(ValidationError, match="has no leg"):
        put_leg(fakes.ports, OWNER, basket.id, 1, strategy.id, a_leg_input(), LegId("nope"))


def test_only_a_draft_is_deleted_and_its_scheduled_jobs_go_with_it(fakes: Fakes) -> None:
    # Given a draft with an entry and an exit time
    schedule = Schedule(entry_at=time(9, 20), exit_at=time(15, 0))
    basket = create_basket(fakes.ports, OWNER, "b", [("s", [a_leg_input()])], schedule=schedule)
    assert fakes.scheduler is not None
    assert sorted(fakes.scheduler.jobs) == [f"entry-{basket.id}", f"exit-{basket.id}"]
    # When
    delete_basket(fakes.ports, OWNER, basket.id, 1)
    # Then
    assert fakes.scheduler.jobs == {}
    with pytest.raises(NotFound):
        fakes.baskets.get(OWNER, basket.id)


def test_a_schedule_needs_a_scheduler() -> None:
    fakes = Fakes(scheduler=None)
    with pytest.raises(ValidationError, match="no scheduler"):
        create_basket(fakes.ports, OWNER, "b", schedule=Schedule(exit_at=time(15, 0)))


def test_a_users_basket_is_invisible_to_another_user(fakes: Fakes) -> None:
    basket = create_basket(fakes.ports, OWNER, "b")
    with pytest.raises(NotFound):
        update_basket(fakes.ports, OTHER_OWNER, basket.id, 1, name="mine now")
    with pytest.raises(NotFound):
        delete_basket(fakes.ports, OTHER_OWNER, basket.id, 1)


def test_a_new_exit_time_replaces_the_job_and_an_entry_time_needs_a_draft(fakes: Fakes) -> None:
    # Given a LIVE basket with no schedule
    basket = create_basket(fakes.ports, OWNER, "b", [("s", [a_leg_input()])])
    fakes.baskets.baskets[basket.id].status = BasketStatus.LIVE
    # When its exit time is set
    update_basket(fakes.ports, OWNER, basket.id, 1, schedule=Schedule(exit_at=time(15, 0)))
    # Then only the exit job is there, at 15:00 IST today
    assert fakes.scheduler is not None
    assert [job.at.astimezone(IST).time() for job in fakes.scheduler.jobs.values()] == [time(15, 0)]
    with pytest.raises(ValidationError, match="only on a DRAFT basket"):
        update_basket(fakes.ports, OWNER, basket.id, 2, schedule=Schedule(entry_at=time(9, 20)))
    with pytest.raises(ValidationError, match="only on a DRAFT basket"):
        update_basket(fakes.ports, OWNER, basket.id, 2, on_partial_failure=PartialFailurePolicy.KEEP_FILLED)


def test_a_closed_basket_can_no_longer_be_changed(fakes: Fakes) -> None:
    basket = create_basket(fakes.ports, OWNER, "b")
    fakes.baskets.baskets[basket.id].status = BasketStatus.CLOSED
    with pytest.raises(Conflict, match="can no longer be changed"):
        update_basket(fakes.ports, OWNER, basket.id, 1, name="again")
