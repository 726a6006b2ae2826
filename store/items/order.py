"""The order item: in its basket's collection, indexed by owner, by our id and by the broker's id."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from store.items.attributes import decimal_or_none, deserialize, parse_timestamp, serialize, timestamp
from store.items.keys import (
    GSI_ORDER_SK,
    ORDER_SK_PREFIX,
    basket_partition,
    broker_order_partition,
    order_partition,
    owner_partition,
)
from trading.ids import BasketId, BrokerOrderId, ClientRequestId, LegId, OrderId, OwnerId, StrategyId
from trading.model import InstrumentRef, Order, OrderStatus, OrderType, Product, Side, Validity, Variety
from trading.model.protection import MarketProtection

if TYPE_CHECKING:
    from collections.abc import Mapping

    from store.items.attributes import Item


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
            "marketProtection": order.market_protection.percent,  # absent: automatic
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


def order_terms(order: Order) -> dict[str, Any]:
    """The terms a modification may change, as attributes (absent when None: no price, automatic protection)."""
    terms = {
        "orderType": order.order_type.value,
        "quantity": order.quantity,
        "validity": order.validity.value,
        "price": order.price,
        "triggerPrice": order.trigger_price,
        "marketProtection": order.market_protection.percent,
    }
    return {name: value for name, value in terms.items() if value is not None}


def broker_order_attributes(order: Order) -> dict[str, str]:
    """What recording the broker's order id sets: the id and its sparse index keys (none before placement)."""
    if not order.broker_order_id:
        return {}
    return {"brokerOrderId": order.broker_order_id, **broker_order_keys(order)}


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
        price=decimal_or_none(v.get("price")),
        trigger_price=decimal_or_none(v.get("triggerPrice")),
        multiplier=Decimal(v["multiplier"]),
        market_protection=MarketProtection(decimal_or_none(v.get("marketProtection"))),
        broker_order_id=BrokerOrderId(v["brokerOrderId"]) if "brokerOrderId" in v else None,
        status=OrderStatus(v["status"]),
        status_message=v.get("statusMessage"),
        filled_quantity=int(v.get("filledQuantity", 0)),
        filled_value=Decimal(v.get("filledValue", 0)),
        version=int(v["version"]),
    )
