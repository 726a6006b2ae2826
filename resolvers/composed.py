"""What a resolver reaches the adapters through: the composition the handler was invoked with."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.graphql_appsync.router import Router

    from composition.runtime import Composition
    from trading.accounts import AccountPorts
    from trading.services import Ports

COMPOSITION = "composition"


def composition(router: Router) -> Composition:
    composed: Composition = router.context[COMPOSITION]
    return composed


def ports(router: Router) -> Ports:
    return composition(router).ports


def accounts(router: Router) -> AccountPorts:
    return composition(router).accounts
