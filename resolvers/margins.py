"""Margin before execution: a basket's margin and charges, and the caller's funds at a broker."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.graphql_appsync.router import Router

from resolvers import arguments as args
from resolvers.composed import ports
from resolvers.identity import caller
from schema import margin_shapes as shapes
from trading.ids import BasketId
from trading.model.margin import Segment
from trading.usecases import margins

router = Router()


@router.resolver(type_name="Query", field_name="basketMargin")
def basket_margin(basketId: str) -> dict[str, Any]:
    report = margins.basket_margin(ports(), caller(router), BasketId(args.text(basketId, "basketId", 40)))
    return shapes.basket_margin_shape(report)


@router.resolver(type_name="Query", field_name="funds")
def funds(broker: str | None = None, segment: str = "EQUITY") -> dict[str, Any]:
    owner = caller(router)
    chosen = args.member(Segment, segment, "segment")
    return shapes.funds_shape(margins.account_funds(ports(), owner, args.broker_name(broker), chosen))
