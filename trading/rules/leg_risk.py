"""A leg's managed exit as a rule: its levels from the entry and the trailing peak, and what a new mark fires.

Everything follows from (entry, peak): the stop is the stop-loss level moved by the trail's whole steps of
the peak's move in the leg's favour, and to the entry once the move reached `move_to_cost_at`. So a replayed
or reordered mark gives the same state, and the stop never moves against the leg.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

from trading.clock import IST
from trading.errors import ValidationError
from trading.model.basket import Side
from trading.model.leg_risk import Basis, CombinedBasis, LegRiskState, StopLossMode, Trigger

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from trading.model.leg_risk import LegRisk, Level, StrategyRisk

MAX_RE_ENTRIES = 10
MAX_POINTS = Decimal(1_000_000)
HUNDRED = Decimal(100)
PRICE_PLACES = Decimal("0.0001")


def check_leg_risk(risk: LegRisk, side: Side, price: Decimal | None = None) -> LegRisk:
    """Refuse settings that cannot work: non-positive values, a stop-loss on the wrong side (of the target, or
    of the leg's limit `price` when it has one), a trail without a stop-loss or that outruns its step."""
    levels = (("stopLoss", risk.stop_loss), ("target", risk.target), ("moveToCostAt", risk.move_to_cost_at))
    for what, level in levels:
        if level is None:
            continue
        _positive(level.value, f"{what}.value")
        if level.basis is Basis.PERCENT and level.value >= HUNDRED and _toward_zero(what, side):
            raise ValidationError(f"{what} of {level.value} percent would put it at or below zero; give less than 100")
    if risk.trail is not None:
        if risk.stop_loss is None:
            raise ValidationError("a trailing stop needs a stopLoss to trail")
        _positive(risk.trail.step, "trail.step")
        _positive(risk.trail.offset, "trail.offset")
        if risk.trail.offset > risk.trail.step:
            raise ValidationError(
                f"trail.offset {risk.trail.offset} is more than trail.step {risk.trail.step}: "
                "the stop would pass the price"
            )
    if risk.re_entry is not None:
        if not 1 <= risk.re_entry.times <= MAX_RE_ENTRIES:
            raise ValidationError(f"reEntry.times must be 1 to {MAX_RE_ENTRIES}, got {risk.re_entry.times}")
        if risk.stop_loss is None and risk.target is None:
            raise ValidationError("reEntry needs a stopLoss or a target to re-enter after")
    _check_sides(risk, side, price)
    _check_stop_mode(risk)
    return risk


def _check_stop_mode(risk: LegRisk) -> None:
    """A stop held at the broker is one SL-M order at a level fixed at the entry: it needs a stop-loss, and
    neither trails nor moves to cost (those move the stop with our marks, which is what it must not depend on)."""
    if risk.stop_loss_mode is not StopLossMode.AT_BROKER:
        return
    if risk.stop_loss is None:
        raise ValidationError("stopLossMode AT_BROKER needs a stopLoss to hold at the broker")
    for what, given in (("trail", risk.trail), ("moveToCostAt", risk.move_to_cost_at)):
        if given is not None:
            raise ValidationError(
                f"{what} moves the stop with our marks; a stop-loss held AT_BROKER stays at its level: "
                f"drop {what} or use stopLossMode MANAGED"
            )


def _positive(value: Decimal, what: str) -> None:
    if not value.is_finite() or value <= 0:
        raise ValidationError(f"{what} must be a positive number, got {value}")
    if value > MAX_POINTS:
        raise ValidationError(f"{what} {value} is above the ceiling of {MAX_POINTS}")


def _toward_zero(what: str, side: Side) -> bool:
    """Whether the level lies below the entry: a long's stop, a short's target."""
    return (what == "stopLoss") == (side is Side.BUY)


def _check_sides(risk: LegRisk, side: Side, price: Decimal | None) -> None:
    sign = 1 if side is Side.BUY else -1
    sl, tg = risk.stop_loss, risk.target
    if sl and tg and sl.basis is Basis.PREMIUM and tg.basis is Basis.PREMIUM and sign * (tg.value - sl.value) <= 0:
        below = "below" if side is Side.BUY else "above"
        raise ValidationError(
            f"stopLoss {sl.value} is on the wrong side: a {side} leg's stop-loss must be {below} its target {tg.value}"
        )
    if price is None:
        return
    for what, level, favour in (("stopLoss", sl, -1), ("target", tg, 1), ("moveToCostAt", risk.move_to_cost_at, 1)):
        if level is not None and level.basis is Basis.PREMIUM and sign * favour * (level.value - price) <= 0:
            where = "above" if sign * favour > 0 else "below"
            raise ValidationError(
                f"{what} {level.value} is on the wrong side: a {side} leg at {price} needs it {where} {price}"
            )


def _offset(level: Level, entry: Decimal) -> Decimal:
    """The level's distance from the entry, in points."""
    if level.basis is Basis.POINTS:
        return level.value
    if level.basis is Basis.PERCENT:
        return entry * level.value / HUNDRED
    return abs(level.value - entry)


def _at(level: Level, entry: Decimal, sign: int) -> Decimal:
    """The price of a level `sign` (+1 in the leg's favour, -1 against) of the entry."""
    if level.basis is Basis.PREMIUM:
        return level.value
    return (entry + sign * _offset(level, entry)).quantize(PRICE_PLACES, ROUND_HALF_EVEN)


def levels(risk: LegRisk, side: Side, entry: Decimal, peak: Decimal) -> tuple[Decimal | None, Decimal | None, bool]:
    """The stop, the target and whether the stop was moved to cost, for a leg entered at `entry` whose best
    price since is `peak`."""
    sign = 1 if side is Side.BUY else -1
    stop = _at(risk.stop_loss, entry, -sign) if risk.stop_loss else None
    target = _at(risk.target, entry, sign) if risk.target else None
    moved = sign * (peak - entry)  # how far the price went in the leg's favour, at best
    if stop is not None and risk.trail is not None and moved > 0:
        steps = moved // risk.trail.step
        stop += sign * steps * risk.trail.offset
    to_cost = False
    if risk.move_to_cost_at is not None and moved > 0:
        reached = moved >= _offset(risk.move_to_cost_at, entry)
        if risk.move_to_cost_at.basis is Basis.PREMIUM:
            reached = sign * (peak - risk.move_to_cost_at.value) >= 0
        if reached and (stop is None or sign * (entry - stop) > 0):
            stop, to_cost = entry, True
    return stop, target, to_cost


def evaluate(risk: LegRisk, side: Side, entry: Decimal, state: LegRiskState, mark: Decimal) -> LegRiskState:
    """The leg's state after a new mark: the peak and levels moved, and `fired` when the mark crossed one.

    A fired state stays as it is (one trigger per entry); a new entry (the average moved) starts over from it.
    A stop held at the broker never fires here: its SL-M order does, at the broker (`held_stop_filled`), unless
    the broker no longer holds it (`stop_lost`: refused, or cancelled unfilled), when it is ours again.
    """
    if state.fired is not None:
        return state
    sign = 1 if side is Side.BUY else -1
    peak = entry if state.entry != entry or state.peak is None else state.peak
    if sign * (mark - peak) > 0:
        peak = mark
    stop, target, to_cost = levels(risk, side, entry, peak)
    if risk.stop_at_broker and state.stop_orders and state.entry == entry and not state.stop_lost:
        stop = state.stop  # the trigger of the SL-M at the broker, on its tick
    fired: Trigger | None = None
    if stop is not None and sign * (mark - stop) <= 0 and state.stop_is_ours(risk):
        fired = Trigger.STOP_LOSS
    elif target is not None and sign * (mark - target) >= 0:
        fired = Trigger.TARGET
    return replace(
        state,
        entry=entry,
        peak=peak,
        stop=stop,
        target=target,
        moved_to_cost=to_cost,
        fired=fired,
        fired_at=mark if fired else None,
    )


def broker_stop_trigger(risk: LegRisk, side: Side, entry: Decimal, tick: Decimal) -> Decimal:
    """The trigger price of the SL-M held at the broker for a leg entered at `entry`: its stop-loss level on the
    instrument's tick, rounded toward the entry (never looser than asked: up for a long's stop, down for a
    short's)."""
    stop, _, _ = levels(risk, side, entry, entry)
    if stop is None:
        raise ValidationError("a stop held at the broker needs a stopLoss")
    rounding = ROUND_CEILING if side is Side.BUY else ROUND_FLOOR
    return (stop / tick).quantize(Decimal(1), rounding) * tick


def held_stop_filled(state: LegRiskState, price: Decimal | None) -> LegRiskState:
    """The state once the leg's SL-M filled at the broker at (average) `price`: fired by its stop-loss. A state
    that fired already (our target raced it) stays as it is."""
    if state.fired is not None:
        return state
    return replace(state, fired=Trigger.STOP_LOSS, fired_at=price)


def held_stop_lost(state: LegRiskState) -> LegRiskState:
    """The state once the broker refused the leg's SL-M: the stop-loss is managed by us for the rest of the
    cycle (the SL-M can never fill, so the two still never both act)."""
    if state.fired is not None or state.stop_lost:
        return state
    return replace(state, stop_lost=True)


def may_re_enter(risk: LegRisk, state: LegRiskState, now: datetime) -> bool:
    """Whether a fired leg may be entered again now: re-entries left and before the cut-off (IST)."""
    chosen = risk.re_entry
    if state.fired is None or chosen is None or state.re_entries >= chosen.times:
        return False
    return chosen.until is None or now.astimezone(IST).time() < chosen.until


def re_entered(state: LegRiskState) -> LegRiskState:
    """The state of a leg entered again: the next cycle, its levels to come from its new entry."""
    return LegRiskState(cycle=state.cycle + 1, re_entries=state.re_entries + 1, version=state.version)


def trigger_reason(leg_name: str, state: LegRiskState) -> str:
    level = state.stop if state.fired is Trigger.STOP_LOSS else state.target
    what = "stop-loss" if state.fired is Trigger.STOP_LOSS else "target"
    moved = " (moved to cost)" if state.fired is Trigger.STOP_LOSS and state.moved_to_cost else ""
    return f"leg {leg_name}: {what}{moved} {_shown(level)} reached at {_shown(state.fired_at)}; leg exited"


def held_stop_reason(leg_name: str, state: LegRiskState) -> str:
    return f"leg {leg_name}: stop-loss {_shown(state.stop)} held at the broker filled at {_shown(state.fired_at)}"


def _shown(price: Decimal | None) -> str:
    """A price as traders write it: paise, or more places only when it has them."""
    if price is None:
        return "-"
    paise = price.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return str(paise if paise == price else price.normalize())


def distances(side: Side, last: Decimal | None, state: LegRiskState) -> tuple[Decimal | None, Decimal | None]:
    """How far the last price is from the stop and from the target, in points (positive: not reached yet)."""
    if last is None:
        return None, None
    sign = 1 if side is Side.BUY else -1
    to_stop = sign * (last - state.stop) if state.stop is not None else None
    to_target = sign * (state.target - last) if state.target is not None else None
    return to_stop, to_target


def check_strategy_risk(risk: StrategyRisk, sides: Sequence[Side]) -> StrategyRisk:
    """Positive levels; a combined premium needs every leg on one side (else the sum means nothing); a premium
    stop on the right side of its target."""
    for what, value in (("stopLoss", risk.stop_loss), ("target", risk.target)):
        if value is not None:
            _positive(value, f"strategy risk.{what}")
    if risk.stop_loss is None and risk.target is None:
        raise ValidationError("a strategy's risk needs a stopLoss or a target")
    if risk.basis is CombinedBasis.PREMIUM:
        if not sides or len(set(sides)) != 1:
            raise ValidationError("a combined premium needs every leg of the strategy on one side; use PNL")
        sign = 1 if sides[0] is Side.BUY else -1
        if risk.stop_loss is not None and risk.target is not None and sign * (risk.target - risk.stop_loss) <= 0:
            raise ValidationError(
                f"strategy stopLoss {risk.stop_loss} is on the wrong side of its target {risk.target} "
                f"for {sides[0]} legs"
            )
    return risk


def combined_trigger(risk: StrategyRisk, side: Side, premium: Decimal, pnl: Decimal) -> Trigger | None:
    """Whether a strategy at combined `premium` (the sum of its legs' prices) and `pnl` reached a level."""
    if risk.basis is CombinedBasis.PNL:
        if risk.stop_loss is not None and pnl <= -risk.stop_loss:
            return Trigger.STOP_LOSS
        if risk.target is not None and pnl >= risk.target:
            return Trigger.TARGET
        return None
    sign = 1 if side is Side.BUY else -1
    if risk.stop_loss is not None and sign * (premium - risk.stop_loss) <= 0:
        return Trigger.STOP_LOSS
    if risk.target is not None and sign * (premium - risk.target) >= 0:
        return Trigger.TARGET
    return None


def strategy_reason(name: str, risk: StrategyRisk, fired: Trigger, premium: Decimal, pnl: Decimal) -> str:
    what = "stop-loss" if fired is Trigger.STOP_LOSS else "target"
    level = risk.stop_loss if fired is Trigger.STOP_LOSS else risk.target
    seen = f"combined premium {_shown(premium)}" if risk.basis is CombinedBasis.PREMIUM else f"P&L {_shown(pnl)}"
    return f"strategy {name}: combined {what} {_shown(level)} reached ({seen}); strategy exited"
