"""Positions, P&L, risk state, instruments and the caller."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.graphql_appsync.router import Router

from resolvers import arguments as args
from resolvers.account_risk import report_shape
from resolvers.composed import ports, trading_day
from resolvers.identity import caller, identity
from schema import shapes
from trading.ids import BasketId
from trading.usecases import queries
from trading.usecases import risk_state as leg_risk_state
from trading.usecases.account_risk import basket_account_report

router = Router()


@router.resolver(type_name="Query", field_name="me")
def me() -> dict[str, Any]:
    owner = caller(router)
    return {"id": owner, "username": identity(router).get("username") or owner}


@router.resolver(type_name="Query", field_name="positions")
def positions(basketId: str) -> list[dict[str, Any]]:
    view = ports().baskets.view(caller(router), BasketId(args.text(basketId, "basketId", 40)))
    return [shapes.position(p, trading_day()) for p in view.positions]


@router.resolver(type_name="Query", field_name="pnl")
def pnl(basketId: str) -> dict[str, Any]:
    report = queries.basket_pnl(ports(), caller(router), BasketId(args.text(basketId, "basketId", 40)))
    return shapes.pnl(report, trading_day())


@router.resolver(type_name="Query", field_name="riskState")
def risk_state(basketId: str) -> dict[str, Any]:
    owner = caller(router)
    view = leg_risk_state.risk_state(ports(), owner, BasketId(args.text(basketId, "basketId", 40)))
    account = basket_account_report(ports(), owner, view.broker)
    return {**shapes.risk_state(view), "account": None if account is None else report_shape(account)}


@router.resolver(type_name="Query", field_name="instruments")
def instruments(search: str, exchange: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    caller(router)
    found = queries.search_instruments(
        ports(),
        args.text(search, "search", 50),
        None if exchange is None else args.text(exchange, "exchange", 10),
        args.integer(limit, "limit"),
    )
    return [shapes.instrument(i) for i in found]
