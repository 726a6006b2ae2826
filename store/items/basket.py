"""The basket item: one per basket, its strategies and legs embedded as maps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from store.items.attributes import (
    clock_text,
    compact,
    decimal_or_none,
    deserialize,
    parse_clock,
    parse_timestamp,
    serialize,
    timestamp,
)
from store.items.keys import BASKET_SK, basket_partition, owner_partition
from store.items.leg_risk import leg_risk_map, leg_risk_of, strategy_risk_map, strategy_risk_of
from trading.ids import BasketId, LegId, OwnerId, StrategyId
from trading.model import (
    Basket,
    BasketStatus,
    InstrumentRef,
    Leg,
    OrderType,
    PartialFailurePolicy,
    Product,
    RiskLimits,
    Schedule,
    Side,
    Strategy,
)
from trading.model.protection import MarketProtection

if TYPE_CHECKING:
    from collections.abc import Mapping

    from store.items.attributes import Item


def basket_item(basket: Basket) -> Item:
    created = timestamp(basket.created_at)
    return serialize(
        {
            "PK": basket_partition(basket.id),
            "SK": BASKET_SK,
            "GSI1PK": owner_partition(basket.owner, "BASKET"),
            "GSI1SK": f"{created}#{basket.id}",
            "type": "Basket",
            "id": basket.id,
            "owner": basket.owner,
            "name": basket.name,
            "status": basket.status.value,
            "statusMessage": basket.status_message,
            "strategies": [_strategy_map(s) for s in basket.strategies],
            "risk": {"maxLoss": basket.risk.max_loss, "target": basket.risk.target},
            "schedule": {
                "entryAt": clock_text(basket.schedule.entry_at),
                "exitAt": clock_text(basket.schedule.exit_at),
            },
            "onPartialFailure": basket.on_partial_failure.value,
            "broker": basket.broker,
            "unwinding": basket.unwinding or None,
            "version": basket.version,
            "createdAt": created,
            "updatedAt": timestamp(basket.updated_at),
        }
    )


def _strategy_map(strategy: Strategy) -> dict[str, Any]:
    return compact(
        {
            "id": strategy.id,
            "name": strategy.name,
            "legs": [compact(_leg_map(leg)) for leg in strategy.legs],
            "risk": strategy_risk_map(strategy.risk),  # absent: none
        }
    )


def _leg_map(leg: Leg) -> dict[str, Any]:
    return {
        "id": leg.id,
        "exchange": leg.instrument.exchange,
        "tradingsymbol": leg.instrument.tradingsymbol,
        "side": leg.side.value,
        "lots": leg.lots,
        "orderType": leg.order_type.value,
        "product": leg.product.value,
        "price": leg.price,
        "triggerPrice": leg.trigger_price,
        "marketProtection": leg.market_protection.percent,  # absent: automatic
        "risk": leg_risk_map(leg.risk),  # absent: none
    }


def basket_of(item: Mapping[str, Any]) -> Basket:
    v = deserialize(item)
    risk = v.get("risk", {})
    schedule = v.get("schedule", {})
    return Basket(
        id=BasketId(v["id"]),
        owner=OwnerId(v["owner"]),
        name=v["name"],
        created_at=parse_timestamp(v["createdAt"]),
        updated_at=parse_timestamp(v["updatedAt"]),
        status=BasketStatus(v["status"]),
        status_message=v.get("statusMessage"),
        strategies=[_strategy_of(s) for s in v.get("strategies", [])],
        risk=RiskLimits(max_loss=decimal_or_none(risk.get("maxLoss")), target=decimal_or_none(risk.get("target"))),
        schedule=Schedule(entry_at=parse_clock(schedule.get("entryAt")), exit_at=parse_clock(schedule.get("exitAt"))),
        on_partial_failure=PartialFailurePolicy(v.get("onPartialFailure", PartialFailurePolicy.EXIT_FILLED.value)),
        broker=v.get("broker"),
        unwinding=bool(v.get("unwinding", False)),
        version=int(v["version"]),
    )


def _strategy_of(v: Mapping[str, Any]) -> Strategy:
    return Strategy(
        id=StrategyId(v["id"]),
        name=v["name"],
        legs=tuple(_leg_of(leg) for leg in v.get("legs", [])),
        risk=strategy_risk_of(v.get("risk")),
    )


def _leg_of(v: Mapping[str, Any]) -> Leg:
    return Leg(
        id=LegId(v["id"]),
        instrument=InstrumentRef(v["exchange"], v["tradingsymbol"]),
        side=Side(v["side"]),
        lots=int(v["lots"]),
        order_type=OrderType(v["orderType"]),
        product=Product(v["product"]),
        price=decimal_or_none(v.get("price")),
        trigger_price=decimal_or_none(v.get("triggerPrice")),
        market_protection=MarketProtection(decimal_or_none(v.get("marketProtection"))),
        risk=leg_risk_of(v.get("risk")),
    )
