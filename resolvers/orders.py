"""Orders: listing, placing and cancelling."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.graphql_appsync.router import Router

from resolvers import arguments as args
from resolvers.composed import composition, ports
from resolvers.identity import caller
from resolvers.pages import page_tokens, scope
from schema import shapes
from trading.ids import BasketId, OrderId, StrategyId
from trading.model import OrderStatus, OrderType, Product, Side, Validity, Variety
from trading.usecases import modifications, queries
from trading.usecases import orders as order_use_cases

router = Router()


@router.resolver(type_name="Query", field_name="orders")
def orders(
    basketId: str | None = None,
    status: str | None = None,
    limit: int = 50,
    nextToken: str | None = None,
) -> dict[str, Any]:
    owner = caller(router)
    basket_id = None if basketId is None else BasketId(args.text(basketId, "basketId", 40))
    order_status = None if status is None else args.member(OrderStatus, status, "status")
    tokens, bound_to = page_tokens(composition()), scope(owner, "orders", basket_id, order_status)
    page = queries.list_orders(
        ports(),
        owner,
        args.integer(limit, "limit"),
        tokens.open(nextToken, bound_to),
        basket_id=basket_id,
        status=order_status,
    )
    return {"items": [shapes.order(o) for o in page.items], "nextToken": tokens.seal(page.next_token, bound_to)}


@router.resolver(type_name="Query", field_name="fills")
def fills(basketId: str, limit: int = 50, nextToken: str | None = None) -> dict[str, Any]:
    page = queries.list_fills(
        ports(), caller(router), BasketId(args.text(basketId, "basketId", 40)), args.integer(limit, "limit"), nextToken
    )
    return {"items": [shapes.fill(f) for f in page.items], "nextToken": page.next_token}


@router.resolver(type_name="Query", field_name="order")
def order(id: str) -> dict[str, Any]:
    return shapes.order(ports().orders.get(caller(router), OrderId(args.text(id, "order id", 40))))


@router.resolver(type_name="Mutation", field_name="placeOrder")
def place_order(input: dict[str, Any]) -> dict[str, Any]:
    strategy_id = input.get("strategyId")
    spec = order_use_cases.OrderInput(
        basket_id=BasketId(args.text(input.get("basketId"), "basketId", 40)),
        exchange=args.text(input.get("exchange"), "exchange", 10),
        tradingsymbol=args.text(input.get("tradingsymbol"), "tradingsymbol", 50),
        side=args.member(Side, input.get("side"), "side"),
        quantity=args.integer(input.get("quantity"), "quantity"),
        order_type=args.member(OrderType, input.get("orderType", "MARKET"), "orderType"),
        product=args.member(Product, input.get("product", "NRML"), "product"),
        variety=args.member(Variety, input.get("variety", "REGULAR"), "variety"),
        validity=args.member(Validity, input.get("validity", "DAY"), "validity"),
        price=args.decimal_or_none(input.get("price"), "price"),
        trigger_price=args.decimal_or_none(input.get("triggerPrice"), "triggerPrice"),
        market_protection=args.market_protection(input.get("marketProtection")),
        strategy_id=None if strategy_id is None else StrategyId(args.text(strategy_id, "strategyId", 40)),
    )
    placed = order_use_cases.place_order(
        ports(), caller(router), spec, args.text(input.get("clientRequestId"), "clientRequestId")
    )
    return shapes.order(placed)


@router.resolver(type_name="Mutation", field_name="modifyOrder")
def modify_order(input: dict[str, Any]) -> dict[str, Any]:
    order_type, validity, quantity = input.get("orderType"), input.get("validity"), input.get("quantity")
    protection = input.get("marketProtection")
    spec = modifications.ModifyInput(
        order_id=OrderId(args.text(input.get("id"), "order id", 40)),
        order_type=None if order_type is None else args.member(OrderType, order_type, "orderType"),
        quantity=None if quantity is None else args.integer(quantity, "quantity"),
        price=args.decimal_or_none(input.get("price"), "price"),
        trigger_price=args.decimal_or_none(input.get("triggerPrice"), "triggerPrice"),
        validity=None if validity is None else args.member(Validity, validity, "validity"),
        market_protection=None if protection is None else args.market_protection(protection),
    )
    changed = modifications.modify_order(
        ports(), caller(router), spec, args.text(input.get("clientRequestId"), "clientRequestId")
    )
    return shapes.order(changed)


@router.resolver(type_name="Mutation", field_name="cancelOrder")
def cancel_order(id: str) -> dict[str, Any]:
    return shapes.order(order_use_cases.cancel_order(ports(), caller(router), OrderId(args.text(id, "order id", 40))))


@router.resolver(type_name="Mutation", field_name="cancelAllOrders")
def cancel_all_orders(basketId: str) -> list[dict[str, Any]]:
    cancelled = order_use_cases.cancel_all_orders(
        ports(), caller(router), BasketId(args.text(basketId, "basketId", 40))
    )
    return [shapes.order(o) for o in cancelled]
