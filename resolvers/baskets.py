"""Baskets, strategies and legs; executing and exiting a basket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.graphql_appsync.router import Router

from resolvers import arguments as args
from resolvers.composed import composition, ports, trading_day
from resolvers.identity import caller
from resolvers.pages import page_tokens, scope
from schema import shapes
from trading.ids import BasketId, LegId, StrategyId
from trading.model import Basket, BasketStatus, PartialFailurePolicy, RiskLimits, Schedule
from trading.usecases import baskets as editing
from trading.usecases import execution as executing
from trading.usecases import exits as exiting
from trading.usecases import queries

if TYPE_CHECKING:
    from trading.usecases.idempotency import Execution

router = Router()


def _basket_id(value: Any) -> BasketId:
    return BasketId(args.text(value, "basket id", 40))


@router.resolver(type_name="Query", field_name="baskets")
def baskets(limit: int = 20, nextToken: str | None = None) -> dict[str, Any]:
    owner = caller(router)
    tokens, bound_to = page_tokens(composition()), scope(owner, "baskets")
    page = queries.list_baskets(ports(), owner, args.integer(limit, "limit"), tokens.open(nextToken, bound_to))
    return {"items": [shapes.basket(b) for b in page.items], "nextToken": tokens.seal(page.next_token, bound_to)}


@router.resolver(type_name="Query", field_name="basket")
def basket(id: str) -> dict[str, Any]:
    view = ports().baskets.view(caller(router), _basket_id(id))
    return shapes.basket(view.basket, view.orders, view.positions, trading_day())


@router.resolver(type_name="Mutation", field_name="createBasket")
def create_basket(input: dict[str, Any]) -> dict[str, Any]:
    strategies = [
        (
            args.text(s.get("name"), "strategy name"),
            args.leg_inputs(s.get("legs") or []),
            args.strategy_risk(s.get("risk")),
        )
        for s in args.counted_strategies(input.get("strategies") or [])
    ]
    created = editing.create_basket(
        ports(),
        caller(router),
        args.text(input.get("name"), "basket name"),
        strategies,
        args.risk_limits(input.get("risk")) or RiskLimits(),
        args.schedule(input.get("schedule")) or Schedule(),
        args.partial_failure_policy(input.get("onPartialFailure")) or PartialFailurePolicy.EXIT_FILLED,
        broker=args.broker_name(input.get("broker")),
    )
    return shapes.basket(created)


@router.resolver(type_name="Mutation", field_name="updateBasket")
def update_basket(input: dict[str, Any]) -> dict[str, Any]:
    name = input.get("name")
    updated = editing.update_basket(
        ports(),
        caller(router),
        _basket_id(input.get("id")),
        args.integer(input.get("expectedVersion"), "expectedVersion"),
        name=None if name is None else args.text(name, "basket name"),
        risk=args.risk_limits(input.get("risk")),
        schedule=args.schedule(input.get("schedule")),
        on_partial_failure=args.partial_failure_policy(input.get("onPartialFailure")),
        broker=args.broker_name(input.get("broker")),
    )
    return _with_details(updated)


@router.resolver(type_name="Mutation", field_name="deleteBasket")
def delete_basket(id: str, expectedVersion: int) -> dict[str, Any]:
    deleted = editing.delete_basket(
        ports(), caller(router), _basket_id(id), args.integer(expectedVersion, "expectedVersion")
    )
    return shapes.basket(deleted)


@router.resolver(type_name="Mutation", field_name="addStrategy")
def add_strategy(input: dict[str, Any]) -> dict[str, Any]:
    changed = editing.add_strategy(
        ports(),
        caller(router),
        _basket_id(input.get("basketId")),
        args.integer(input.get("expectedVersion"), "expectedVersion"),
        args.text(input.get("name"), "strategy name"),
        args.leg_inputs(input.get("legs") or []),
        args.strategy_risk(input.get("risk")),
    )
    return _with_details(changed)


@router.resolver(type_name="Mutation", field_name="updateStrategy")
def update_strategy(input: dict[str, Any]) -> dict[str, Any]:
    changed = editing.rename_strategy(
        ports(),
        caller(router),
        _basket_id(input.get("basketId")),
        args.integer(input.get("expectedVersion"), "expectedVersion"),
        StrategyId(args.text(input.get("strategyId"), "strategyId", 40)),
        args.text(input.get("name"), "strategy name"),
    )
    return _with_details(changed)


@router.resolver(type_name="Mutation", field_name="removeStrategy")
def remove_strategy(basketId: str, expectedVersion: int, strategyId: str) -> dict[str, Any]:
    changed = editing.remove_strategy(
        ports(),
        caller(router),
        _basket_id(basketId),
        args.integer(expectedVersion, "expectedVersion"),
        StrategyId(args.text(strategyId, "strategyId", 40)),
    )
    return _with_details(changed)


@router.resolver(type_name="Mutation", field_name="addLeg")
def add_leg(input: dict[str, Any]) -> dict[str, Any]:
    return _put_leg(input, leg_id=None)


@router.resolver(type_name="Mutation", field_name="updateLeg")
def update_leg(input: dict[str, Any]) -> dict[str, Any]:
    return _put_leg(input, leg_id=LegId(args.text(input.get("legId"), "legId", 40)))


def _put_leg(input: dict[str, Any], leg_id: LegId | None) -> dict[str, Any]:
    changed = editing.put_leg(
        ports(),
        caller(router),
        _basket_id(input.get("basketId")),
        args.integer(input.get("expectedVersion"), "expectedVersion"),
        StrategyId(args.text(input.get("strategyId"), "strategyId", 40)),
        args.leg_input(input.get("leg") or {}),
        leg_id,
    )
    return _with_details(changed)


@router.resolver(type_name="Mutation", field_name="removeLeg")
def remove_leg(basketId: str, expectedVersion: int, legId: str) -> dict[str, Any]:
    changed = editing.remove_leg(
        ports(),
        caller(router),
        _basket_id(basketId),
        args.integer(expectedVersion, "expectedVersion"),
        LegId(args.text(legId, "legId", 40)),
    )
    return _with_details(changed)


@router.resolver(type_name="Mutation", field_name="executeBasket")
def execute_basket(basketId: str, clientRequestId: str) -> dict[str, Any]:
    execution = executing.execute_basket(
        ports(), caller(router), _basket_id(basketId), args.text(clientRequestId, "clientRequestId")
    )
    return _execution(execution)


@router.resolver(type_name="Mutation", field_name="exitBasket")
def exit_basket(basketId: str, clientRequestId: str) -> dict[str, Any]:
    execution = exiting.exit_basket(
        ports(), caller(router), _basket_id(basketId), args.text(clientRequestId, "clientRequestId")
    )
    return _execution(execution)


def _execution(execution: Execution) -> dict[str, Any]:
    view = execution.view
    return {
        "basket": shapes.basket(view.basket, view.orders, view.positions),
        "orders": [shapes.order(o) for o in execution.orders],
    }


def _with_details(b: Basket) -> dict[str, Any]:
    """A DRAFT basket has no orders or positions; any other reads its whole collection."""
    if b.status is BasketStatus.DRAFT:
        return shapes.basket(b)
    view = ports().baskets.view(b.owner, b.id)
    return shapes.basket(view.basket, view.orders, view.positions, trading_day())
