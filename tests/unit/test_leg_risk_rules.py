"""The leg risk rule: levels from entry and peak, what a mark fires, and the settings it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal as D

import pytest

from trading.errors import ValidationError
from trading.model import Side
from trading.model.leg_risk import (
    Basis,
    CombinedBasis,
    LegRisk,
    LegRiskState,
    Level,
    ReEntry,
    StrategyRisk,
    Trail,
    Trigger,
)
from trading.rules.leg_risk import (
    check_leg_risk,
    check_strategy_risk,
    combined_trigger,
    evaluate,
    may_re_enter,
    re_entered,
)

PTS, PCT, PREM = Basis.POINTS, Basis.PERCENT, Basis.PREMIUM


def walk(risk: LegRisk, side: Side, entry: str, marks: list[str]) -> LegRiskState:
    state = LegRiskState()
    for mark in marks:
        state = evaluate(risk, side, D(entry), state, D(mark))
    return state


@pytest.mark.parametrize(
    ("risk", "side", "entry", "marks", "stop", "target", "fired"),
    [
        # a long with a 20-point stop and a 40-point target
        (LegRisk(Level(PTS, D(20)), Level(PTS, D(40))), Side.BUY, "100", ["101", "85"], "80", "140", None),
        (LegRisk(Level(PTS, D(20)), Level(PTS, D(40))), Side.BUY, "100", ["90", "80"], "80", "140", Trigger.STOP_LOSS),
        (LegRisk(Level(PTS, D(20)), Level(PTS, D(40))), Side.BUY, "100", ["140.05"], "80", "140", Trigger.TARGET),
        # a short: its stop above, its target below
        (LegRisk(Level(PTS, D(20)), Level(PTS, D(40))), Side.SELL, "100", ["119.95"], "120", "60", None),
        (LegRisk(Level(PTS, D(20)), Level(PTS, D(40))), Side.SELL, "100", ["120"], "120", "60", Trigger.STOP_LOSS),
        (LegRisk(Level(PTS, D(20)), Level(PTS, D(40))), Side.SELL, "100", ["59"], "120", "60", Trigger.TARGET),
        # percent of the entry
        (LegRisk(Level(PCT, D(25)), Level(PCT, D(50))), Side.SELL, "200", ["240"], "250", "100", None),
        (LegRisk(Level(PCT, D(25)), Level(PCT, D(50))), Side.BUY, "200", ["150"], "150", "300", Trigger.STOP_LOSS),
        # absolute premium
        (LegRisk(Level(PREM, D(90)), Level(PREM, D(130))), Side.BUY, "100", ["129.9"], "90", "130", None),
        (LegRisk(Level(PREM, D(130)), Level(PREM, D(60))), Side.SELL, "100", ["130"], "130", "60", Trigger.STOP_LOSS),
        # trailing: every 10 points up the stop follows by 5; peak 127 is two steps: stop 80 + 10 = 90
        (LegRisk(Level(PTS, D(20)), trail=Trail(D(10), D(5))), Side.BUY, "100", ["127", "91"], "90", None, None),
        (
            LegRisk(Level(PTS, D(20)), trail=Trail(D(10), D(5))),
            Side.BUY,
            "100",
            ["127", "90"],
            "90",
            None,
            Trigger.STOP_LOSS,
        ),
        # the stop never moves back when the price falls again
        (LegRisk(Level(PTS, D(20)), trail=Trail(D(10), D(5))), Side.BUY, "100", ["131", "96", "97"], "95", None, None),
        # a short's trail follows the price down
        (LegRisk(Level(PTS, D(20)), trail=Trail(D(10), D(10))), Side.SELL, "100", ["80", "99"], "100", None, None),
        # move to cost at a 15-point profit: stop 80 -> 100
        (
            LegRisk(Level(PTS, D(20)), move_to_cost_at=Level(PTS, D(15))),
            Side.BUY,
            "100",
            ["114", "99"],
            "80",
            None,
            None,
        ),
        (
            LegRisk(Level(PTS, D(20)), move_to_cost_at=Level(PTS, D(15))),
            Side.BUY,
            "100",
            ["115", "100"],
            "100",
            None,
            Trigger.STOP_LOSS,
        ),
        # move to cost without a stop-loss sets one at the entry
        (LegRisk(move_to_cost_at=Level(PREM, D(80))), Side.SELL, "100", ["80", "101"], "100", None, Trigger.STOP_LOSS),
    ],
)
def test_levels_and_triggers(
    risk: LegRisk, side: Side, entry: str, marks: list[str], stop: str | None, target: str | None, fired: Trigger | None
) -> None:
    state = walk(risk, side, entry, marks)
    assert state.stop == (D(stop) if stop else None)
    assert state.target == (D(target) if target else None)
    assert state.fired is fired
    assert state.fired_at == (D(marks[-1]) if fired else None)


def test_a_fired_state_stays_fired_and_a_replay_of_marks_changes_nothing() -> None:
    risk = LegRisk(Level(PTS, D(20)), trail=Trail(D(10), D(5)))
    once = walk(risk, Side.BUY, "100", ["127", "90"])
    assert evaluate(risk, Side.BUY, D(100), once, D(200)) == once
    peaked = walk(risk, Side.BUY, "100", ["127"])
    assert evaluate(risk, Side.BUY, D(100), peaked, D(127)) == peaked


def test_a_new_entry_starts_the_levels_over() -> None:
    risk = LegRisk(Level(PTS, D(20)), trail=Trail(D(10), D(5)))
    state = walk(risk, Side.BUY, "100", ["130"])
    assert state.stop == D(95)
    moved = evaluate(risk, Side.BUY, D(110), state, D(111))
    assert (moved.entry, moved.peak, moved.stop) == (D(110), D(111), D(90))


@pytest.mark.parametrize(
    ("risk", "side", "price", "message"),
    [
        (LegRisk(Level(PTS, D(-5))), Side.BUY, None, "stopLoss.value must be a positive number"),
        (LegRisk(target=Level(PTS, D(0))), Side.BUY, None, "target.value must be a positive number"),
        (LegRisk(Level(PCT, D(100))), Side.BUY, None, "at or below zero"),
        (LegRisk(target=Level(PCT, D(100))), Side.SELL, None, "at or below zero"),
        (LegRisk(Level(PREM, D(120)), Level(PREM, D(110))), Side.BUY, None, "wrong side"),
        (LegRisk(Level(PREM, D(90)), Level(PREM, D(110))), Side.SELL, None, "wrong side"),
        (LegRisk(Level(PREM, D(105))), Side.BUY, D(100), "stopLoss 105 is on the wrong side"),
        (LegRisk(target=Level(PREM, D(105))), Side.SELL, D(100), "target 105 is on the wrong side"),
        (LegRisk(trail=Trail(D(10), D(5))), Side.BUY, None, "needs a stopLoss"),
        (LegRisk(Level(PTS, D(20)), trail=Trail(D(5), D(10))), Side.BUY, None, "more than trail.step"),
        (LegRisk(Level(PTS, D(20)), trail=Trail(D(0), D(0))), Side.BUY, None, "trail.step must be a positive"),
        (LegRisk(Level(PTS, D(20)), re_entry=ReEntry(0)), Side.BUY, None, "reEntry.times must be 1 to 10"),
        (LegRisk(Level(PTS, D(20)), re_entry=ReEntry(11)), Side.BUY, None, "reEntry.times must be 1 to 10"),
        (LegRisk(move_to_cost_at=Level(PTS, D(5)), re_entry=ReEntry(1)), Side.BUY, None, "needs a stopLoss or"),
    ],
)
def test_refused_settings(risk: LegRisk, side: Side, price: D | None, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_leg_risk(risk, side, price)


def test_sound_settings_pass() -> None:
    risk = LegRisk(Level(PREM, D(90)), Level(PREM, D(120)), Trail(D(10), D(5)), Level(PTS, D(10)), ReEntry(2))
    assert check_leg_risk(risk, Side.BUY, D(100)) is risk


def test_re_entry_until_its_count_and_cut_off() -> None:
    risk = LegRisk(Level(PTS, D(20)), re_entry=ReEntry(2, time(14, 30)))
    fired = walk(risk, Side.BUY, "100", ["80"])
    before, after = datetime(2026, 12, 2, 8, 0, tzinfo=UTC), datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # 13:30, 14:30 IST
    assert may_re_enter(risk, fired, before) and not may_re_enter(risk, fired, after)
    again = re_entered(fired)
    assert (again.cycle, again.re_entries, again.fired, again.entry) == (1, 1, None, None)
    assert not may_re_enter(risk, again, before)  # not fired again yet
    twice = re_entered(evaluate(risk, Side.BUY, D(100), again, D(79)))
    assert not may_re_enter(risk, evaluate(risk, Side.BUY, D(100), twice, D(79)), before)  # both used
    assert not may_re_enter(LegRisk(Level(PTS, D(20))), fired, before)


PREMIUM, PNL = CombinedBasis.PREMIUM, CombinedBasis.PNL


@pytest.mark.parametrize(
    ("risk", "side", "premium", "pnl", "fired"),
    [
        # a short straddle: its combined premium rising to the stop, falling to the target
        (StrategyRisk(PREMIUM, D(230), D(120)), Side.SELL, "229.95", "0", None),
        (StrategyRisk(PREMIUM, D(230), D(120)), Side.SELL, "230", "0", Trigger.STOP_LOSS),
        (StrategyRisk(PREMIUM, D(230), D(120)), Side.SELL, "120", "0", Trigger.TARGET),
        # a long strangle: the reverse
        (StrategyRisk(PREMIUM, D(80), D(200)), Side.BUY, "80", "0", Trigger.STOP_LOSS),
        (StrategyRisk(PREMIUM, D(80), D(200)), Side.BUY, "199", "0", None),
        # on P&L, in rupees
        (StrategyRisk(PNL, D(3000), D(1500)), Side.SELL, "0", "-2999.99", None),
        (StrategyRisk(PNL, D(3000), D(1500)), Side.SELL, "0", "-3000", Trigger.STOP_LOSS),
        (StrategyRisk(PNL, D(3000), D(1500)), Side.BUY, "0", "1500", Trigger.TARGET),
    ],
)
def test_combined_triggers(risk: StrategyRisk, side: Side, premium: str, pnl: str, fired: Trigger | None) -> None:
    assert combined_trigger(risk, side, D(premium), D(pnl)) is fired


@pytest.mark.parametrize(
    ("risk", "sides", "message"),
    [
        (StrategyRisk(PREMIUM, D(230)), [Side.SELL, Side.BUY], "every leg of the strategy on one side"),
        (StrategyRisk(PREMIUM, D(120), D(230)), [Side.SELL, Side.SELL], "wrong side of its target"),
        (StrategyRisk(PNL, D(-1)), [Side.SELL], "must be a positive number"),
        (StrategyRisk(PNL), [Side.SELL], "needs a stopLoss or a target"),
    ],
)
def test_refused_strategy_settings(risk: StrategyRisk, sides: list[Side], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        check_strategy_risk(risk, sides)
