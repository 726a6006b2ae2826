"""A leg's risk settings (embedded in its basket's leg map) and its risk state item (one per leg, versioned)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from store.items.attributes import clock_text, compact, decimal_or_none, deserialize, parse_clock, serialize
from store.items.keys import basket_partition
from trading.ids import BasketId, LegId, OrderId, OwnerId
from trading.model.leg_risk import (
    NO_LEG_RISK,
    Basis,
    CombinedBasis,
    LegRisk,
    LegRiskState,
    Level,
    ReEntry,
    StopLossMode,
    StrategyRisk,
    Trail,
    Trigger,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from store.items.attributes import Item

LEG_RISK_SK_PREFIX = "LEGRISK#"


def leg_risk_map(risk: LegRisk) -> dict[str, Any] | None:
    """The settings as a map inside the leg's (None when the leg has none)."""
    if risk == NO_LEG_RISK:
        return None
    return compact(
        {
            "stopLoss": _level_map(risk.stop_loss),
            "target": _level_map(risk.target),
            "trail": {"step": risk.trail.step, "offset": risk.trail.offset} if risk.trail else None,
            "moveToCostAt": _level_map(risk.move_to_cost_at),
            "reEntry": {"times": risk.re_entry.times, "until": clock_text(risk.re_entry.until)}
            if risk.re_entry
            else None,
            "stopLossMode": None if risk.stop_loss_mode is StopLossMode.MANAGED else risk.stop_loss_mode.value,
        }
    )


def _level_map(level: Level | None) -> dict[str, Any] | None:
    return None if level is None else {"basis": level.basis.value, "value": level.value}


def leg_risk_of(v: Mapping[str, Any] | None) -> LegRisk:
    if not v:
        return NO_LEG_RISK
    trail, re_entry = v.get("trail"), v.get("reEntry")
    return LegRisk(
        stop_loss=_level_of(v.get("stopLoss")),
        target=_level_of(v.get("target")),
        trail=Trail(decimal_or_none(trail["step"]), decimal_or_none(trail["offset"])) if trail else None,  # type: ignore[arg-type]
        move_to_cost_at=_level_of(v.get("moveToCostAt")),
        re_entry=ReEntry(int(re_entry["times"]), parse_clock(re_entry.get("until"))) if re_entry else None,
        stop_loss_mode=StopLossMode(v.get("stopLossMode") or StopLossMode.MANAGED),
    )


def _level_of(v: Mapping[str, Any] | None) -> Level | None:
    return None if not v else Level(Basis(v["basis"]), decimal_or_none(v["value"]))  # type: ignore[arg-type]


def strategy_risk_map(risk: StrategyRisk | None) -> dict[str, Any] | None:
    if risk is None:
        return None
    return compact({"basis": risk.basis.value, "stopLoss": risk.stop_loss, "target": risk.target})


def strategy_risk_of(v: Mapping[str, Any] | None) -> StrategyRisk | None:
    if not v:
        return None
    return StrategyRisk(CombinedBasis(v["basis"]), decimal_or_none(v.get("stopLoss")), decimal_or_none(v.get("target")))


def leg_risk_key(basket_id: str, leg_id: str) -> Item:
    return serialize({"PK": basket_partition(basket_id), "SK": f"{LEG_RISK_SK_PREFIX}{leg_id}"})


def leg_risk_item(owner: OwnerId, basket_id: BasketId, leg_id: LegId, state: LegRiskState) -> Item:
    return serialize(
        {
            "PK": basket_partition(basket_id),
            "SK": f"{LEG_RISK_SK_PREFIX}{leg_id}",
            "type": "LegRisk",
            "owner": owner,
            "basketId": basket_id,
            "legId": leg_id,
            "cycle": state.cycle,
            "entry": state.entry,
            "peak": state.peak,
            "stop": state.stop,
            "target": state.target,
            "movedToCost": state.moved_to_cost or None,
            "fired": state.fired.value if state.fired else None,
            "firedAt": state.fired_at,
            "reEntries": state.re_entries,
            "stopOrders": list(state.stop_orders) or None,
            "stopLost": state.stop_lost or None,
            "version": state.version,
        }
    )


def leg_risk_state_of(item: Mapping[str, Any]) -> tuple[OwnerId, BasketId, LegId, LegRiskState]:
    v = deserialize(item)
    state = LegRiskState(
        cycle=int(v.get("cycle", 0)),
        entry=decimal_or_none(v.get("entry")),
        peak=decimal_or_none(v.get("peak")),
        stop=decimal_or_none(v.get("stop")),
        target=decimal_or_none(v.get("target")),
        moved_to_cost=bool(v.get("movedToCost", False)),
        fired=Trigger(v["fired"]) if v.get("fired") else None,
        fired_at=decimal_or_none(v.get("firedAt")),
        re_entries=int(v.get("reEntries", 0)),
        stop_orders=tuple(OrderId(o) for o in v.get("stopOrders") or ()),
        stop_lost=bool(v.get("stopLost", False)),
        version=int(v["version"]),
    )
    return OwnerId(v["owner"]), BasketId(v["basketId"]), LegId(v["legId"]), state
