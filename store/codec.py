"""Items <-> domain objects: keys, attribute names and DynamoDB typing live here."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from trading.clock import IST
from trading.ids import (
    BasketId,
    BrokerOrderId,
    ClientRequestId,
    LegId,
    OrderId,
    OwnerId,
    StrategyId,
    TradeId,
)
from trading.model import (
    Basket,
    BasketStatus,
    Fill,
    InstrumentRef,
    Leg,
    Order,
    OrderStatus,
    OrderType,
    PartialFailurePolicy,
    Position,
    PositionKey,
    Product,
    RiskLimits,
    Schedule,
    Side,
    Strategy,
    Validity,
    Variety,
)
from trading.model.instrument import Instrument

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

Item = dict[str, Any]
"""A DynamoDB-typed item or key, e.g. {"PK": {"S": "BASKET#1"}}."""

BASKET_SK = "#BASKET"
ORDER_SK_PREFIX = "ORDER#"
FILL_SK_PREFIX = "FILL#"
POSITION_SK_PREFIX = "POSITION#"
MARK_SK = "#MARK"
REQUEST_SK = "#REQUEST"
GSI_ORDER_SK = "#ORDER"
NO_STRATEGY = "-"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def serialize(values: Mapping[str, Any]) -> Item:
    """Type plain values for DynamoDB, leaving out None (absent attributes, never NULL)."""
    return {k: _serializer.serialize(v) for k, v in _compact(values).items()}


def typed(value: Any) -> dict[str, Any]:
    """One value typed for DynamoDB, e.g. {"S": "OPEN"}."""
    return dict(_serializer.serialize(value))


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values of a DynamoDB-typed item (numbers come back as Decimal)."""
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _compact(v) if isinstance(v, dict) else v for k, v in values.items() if v is not None}


def timestamp(at: datetime) -> str:
    """A fixed-width ISO-8601 UTC string, so timestamps sort as text.

    Raises
    ------
    ValueError
        `at` is naive: the domain only deals in aware datetimes.
    """
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}; pass an aware (UTC) datetime")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def parse_timestamp(text: str) -> datetime:
    """An aware UTC datetime from `timestamp` text."""
    return datetime.fromisoformat(text).astimezone(UTC)


def _clock(at: time | None) -> str | None:
    return None if at is None else at.strftime("%H:%M")


def _parse_clock(text: str | None) -> time | None:
    return None if text is None else time.fromisoformat(text)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def basket_key(basket_id: str) -> Item:
    return serialize({"PK": f"BASKET#{basket_id}", "SK": BASKET_SK})


def basket_partition(basket_id: str) -> str:
    return f"BASKET#{basket_id}"


def owner_partition(owner: str, kind: str) -> str:
    """GSI1 partition of one owner's items of one kind ("BASKET" or "ORDER")."""
    return f"OWNER#{owner}#{kind}"


def order_key(basket_id: str, order_id: str) -> Item:
    return serialize({"PK": basket_partition(basket_id), "SK": f"{ORDER_SK_PREFIX}{order_id}"})


def order_partition(order_id: str) -> str:
    return f"ORDER#{order_id}"


def broker_order_partition(broker: str, broker_order_id: str) -> str:
    return f"BROKERORDER#{broker}#{broker_order_id}"


def instrument_partition(exchange: str) -> str:
    return f"INSTRUMENT#{exchange}"


def instrument_key(ref: InstrumentRef) -> Item:
    return serialize({"PK": instrument_partition(ref.exchange), "SK": ref.tradingsymbol})


def mark_key(ref: InstrumentRef) -> Item:
    return serialize({"PK": f"MARK#{ref}", "SK": MARK_SK})


def request_key(owner: str, client_request_id: str) -> Item:
    return serialize({"PK": f"REQUEST#{owner}#{client_request_id}", "SK": REQUEST_SK})


def position_key(key: PositionKey) -> Item:
    strategy = key.strategy_id or NO_STRATEGY
    sort = f"{POSITION_SK_PREFIX}{strategy}#{key.instrument}#{key.product}"
    return serialize({"PK": basket_partition(key.basket_id), "SK": sort})


def fill_key(basket_id: str, fill: Fill) -> Item:
    return serialize({"PK": basket_partition(basket_id), "SK": f"{FILL_SK_PREFIX}{fill.order_id}#{fill.trade_id}"})


def sort_key_of(item: Mapping[str, Any]) -> str:
    return str(item["SK"]["S"])


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
                "entryAt": _clock(basket.schedule.entry_at),
                "exitAt": _clock(basket.schedule.exit_at),
            },
            "onPartialFailure": basket.on_partial_failure.value,
            "broker": basket.broker,
            "version": basket.version,
            "createdAt": created,
            "updatedAt": timestamp(basket.updated_at),
        }
    )


def _strategy_map(strategy: Strategy) -> dict[str, Any]:
    return {
        "id": strategy.id,
        "name": strategy.name,
        "legs": [_compact(_leg_map(leg)) for leg in strategy.legs],
    }


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
        risk=RiskLimits(max_loss=_decimal(risk.get("maxLoss")), target=_decimal(risk.get("target"))),
        schedule=Schedule(entry_at=_parse_clock(schedule.get("entryAt")), exit_at=_parse_clock(schedule.get("exitAt"))),
        on_partial_failure=PartialFailurePolicy(v.get("onPartialFailure", PartialFailurePolicy.EXIT_FILLED.value)),
        broker=v.get("broker"),
        version=int(v["version"]),
    )


def _strategy_of(v: Mapping[str, Any]) -> Strategy:
    return Strategy(id=StrategyId(v["id"]), name=v["name"], legs=tuple(_leg_of(leg) for leg in v.get("legs", [])))


def _leg_of(v: Mapping[str, Any]) -> Leg:
    return Leg(
        id=LegId(v["id"]),
        instrument=InstrumentRef(v["exchange"], v["tradingsymbol"]),
        side=Side(v["side"]),
        lots=int(v["lots"]),
        order_type=OrderType(v["orderType"]),
        product=Product(v["product"]),
        price=_decimal(v.get("price")),
        trigger_price=_decimal(v.get("triggerPrice")),
    )


def order_item(order: Order) -> Item:
    created = timestamp(order.created_at)
    return serialize(
        {
            "PK": basket_partition(order.basket_id),
            "SK": f"{ORDER_SK_PREFIX}{order.id}",
            "GSI1PK": owner_partition(order.owner, "ORDER"),
            "GSI1SK": f"{created}#{order.id}",
            "GSI2PK": order_partition(order.id),
            "GSI2SK": GSI_ORDER_SK,
            **broker_order_keys(order),
            "type": "Order",
            "id": order.id,
            "owner": order.owner,
            "basketId": order.basket_id,
            "clientRequestId": order.client_request_id,
            "broker": order.broker,
            "exchange": order.instrument.exchange,
            "tradingsymbol": order.instrument.tradingsymbol,
            "side": order.side.value,
            "quantity": order.quantity,
            "orderType": order.order_type.value,
            "product": order.product.value,
            "strategyId": order.strategy_id,
            "legId": order.leg_id,
            "variety": order.variety.value,
            "validity": order.validity.value,
            "price": order.price,
            "triggerPrice": order.trigger_price,
            "multiplier": order.multiplier,
            "brokerOrderId": order.broker_order_id,
            "status": order.status.value,
            "statusMessage": order.status_message,
            "filledQuantity": order.filled_quantity,
            "filledValue": order.filled_value,
            "version": order.version,
            "createdAt": created,
            "updatedAt": timestamp(order.updated_at),
        }
    )


def broker_order_keys(order: Order) -> dict[str, str]:
    """The sparse ByBrokerOrder keys: present only once the broker has the order."""
    if not order.broker_order_id:
        return {}
    return {"GSI3PK": broker_order_partition(order.broker, order.broker_order_id), "GSI3SK": GSI_ORDER_SK}


def order_of(item: Mapping[str, Any]) -> Order:
    v = deserialize(item)
    return Order(
        id=OrderId(v["id"]),
        owner=OwnerId(v["owner"]),
        basket_id=BasketId(v["basketId"]),
        client_request_id=ClientRequestId(v["clientRequestId"]),
        broker=v["broker"],
        instrument=InstrumentRef(v["exchange"], v["tradingsymbol"]),
        side=Side(v["side"]),
        quantity=int(v["quantity"]),
        order_type=OrderType(v["orderType"]),
        product=Product(v["product"]),
        created_at=parse_timestamp(v["createdAt"]),
        updated_at=parse_timestamp(v["updatedAt"]),
        strategy_id=StrategyId(v["strategyId"]) if "strategyId" in v else None,
        leg_id=LegId(v["legId"]) if "legId" in v else None,
        variety=Variety(v["variety"]),
        validity=Validity(v["validity"]),
        price=_decimal(v.get("price")),
        trigger_price=_decimal(v.get("triggerPrice")),
        multiplier=Decimal(v["multiplier"]),
        broker_order_id=BrokerOrderId(v["brokerOrderId"]) if "brokerOrderId" in v else None,
        status=OrderStatus(v["status"]),
        status_message=v.get("statusMessage"),
        filled_quantity=int(v.get("filledQuantity", 0)),
        filled_value=Decimal(v.get("filledValue", 0)),
        version=int(v["version"]),
    )


def fill_item(order: Order, fill: Fill, *, recorded_at: datetime) -> Item:
    """The fill's item; `recorded_at` is when we wrote it (the exchange's time is `filled_at`)."""
    return {
        **fill_key(order.basket_id, fill),
        **serialize(
            {
                "type": "Fill",
                "owner": order.owner,
                "basketId": order.basket_id,
                "tradeId": fill.trade_id,
                "orderId": fill.order_id,
                "exchange": order.instrument.exchange,
                "tradingsymbol": order.instrument.tradingsymbol,
                "side": fill.side.value,
                "quantity": fill.quantity,
                "price": fill.price,
                "filledAt": timestamp(fill.filled_at),
                "recordedAt": timestamp(recorded_at),
            }
        ),
    }


def fill_of(item: Mapping[str, Any]) -> Fill:
    v = deserialize(item)
    return Fill(
        trade_id=TradeId(v["tradeId"]),
        order_id=OrderId(v["orderId"]),
        side=Side(v["side"]),
        quantity=int(v["quantity"]),
        price=Decimal(v["price"]),
        filled_at=parse_timestamp(v["filledAt"]),
    )


def position_attributes(order: Order) -> dict[str, Any]:
    """The descriptive (non-counter) attributes of the order's position item."""
    return _compact(
        {
            "type": "Position",
            "owner": order.owner,
            "basketId": order.basket_id,
            "strategyId": order.strategy_id,
            "exchange": order.instrument.exchange,
            "tradingsymbol": order.instrument.tradingsymbol,
            "product": order.product.value,
            "multiplier": order.multiplier,
            "GSI4PK": instrument_positions_partition(order.instrument),
            "GSI4SK": f"{order.basket_id}#{position_key(order.position_key)['SK']['S']}",
        }
    )


def instrument_positions_partition(ref: InstrumentRef) -> str:
    """ByInstrument (GSI4) partition holding every position of the instrument."""
    return f"POSITIONS#{ref.exchange}:{ref.tradingsymbol}"


def intraday_partition(day: date) -> str:
    """ByOwner (GSI1) partition of the MIS positions first filled on `day` (IST): the 15:15 square-off reads it."""
    return f"INTRADAY#{day.isoformat()}"


def intraday_keys(order: Order, first_filled_at: datetime) -> dict[str, str]:
    """The sparse GSI1 keys of an MIS position (set at its first fill); none for other products."""
    if order.product is not Product.MIS:
        return {}
    day = first_filled_at.astimezone(IST).date()
    return {"GSI1PK": intraday_partition(day), "GSI1SK": f"{order.owner}#{position_key(order.position_key)['SK']['S']}"}


def position_of(item: Mapping[str, Any], seen_trades: Iterable[TradeId] = ()) -> Position:
    v = deserialize(item)
    key = PositionKey(
        basket_id=BasketId(v["basketId"]),
        strategy_id=StrategyId(v["strategyId"]) if "strategyId" in v else None,
        instrument=InstrumentRef(v["exchange"], v["tradingsymbol"]),
        product=Product(v["product"]),
    )
    return Position(
        key=key,
        owner=OwnerId(v["owner"]),
        multiplier=Decimal(v["multiplier"]),
        buy_quantity=int(v.get("buyQuantity", 0)),
        buy_value=Decimal(v.get("buyValue", 0)),
        sell_quantity=int(v.get("sellQuantity", 0)),
        sell_value=Decimal(v.get("sellValue", 0)),
        seen_trades=set(seen_trades),
    )


def instrument_item(instrument: Instrument) -> Item:
    return serialize(
        {
            "PK": instrument_partition(instrument.exchange),
            "SK": instrument.tradingsymbol,
            "type": "Instrument",
            "token": instrument.token,
            "exchange": instrument.exchange,
            "tradingsymbol": instrument.tradingsymbol,
            "name": instrument.name,
            "instrumentType": instrument.instrument_type,
            "segment": instrument.segment,
            "lotSize": instrument.lot_size,
            "tickSize": instrument.tick_size,
            "expiry": instrument.expiry.isoformat() if instrument.expiry else None,
            "strike": instrument.strike,
            "freezeQuantity": instrument.freeze_quantity,
            "multiplier": instrument.multiplier,
        }
    )


def instrument_of(item: Mapping[str, Any]) -> Instrument:
    v = deserialize(item)
    return Instrument(
        token=int(v["token"]),
        exchange=v["exchange"],
        tradingsymbol=v["tradingsymbol"],
        name=v["name"],
        instrument_type=v["instrumentType"],
        segment=v["segment"],
        lot_size=int(v["lotSize"]),
        tick_size=Decimal(v["tickSize"]),
        expiry=date.fromisoformat(v["expiry"]) if "expiry" in v else None,
        strike=_decimal(v.get("strike")),
        freeze_quantity=int(v["freezeQuantity"]) if "freezeQuantity" in v else None,
        multiplier=Decimal(v.get("multiplier", 1)),
    )


def mark_item(ref: InstrumentRef, price: Decimal, at: datetime) -> Item:
    return {
        **mark_key(ref),
        **serialize(
            {
                "type": "Mark",
                "exchange": ref.exchange,
                "tradingsymbol": ref.tradingsymbol,
                "lastPrice": price,
                "at": timestamp(at),
            }
        ),
    }


def mark_of(item: Mapping[str, Any]) -> tuple[InstrumentRef, Decimal]:
    v = deserialize(item)
    return InstrumentRef(v["exchange"], v["tradingsymbol"]), Decimal(v["lastPrice"])
