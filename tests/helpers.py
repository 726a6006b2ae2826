"""Small shared test helpers: the demo baskets (from local/seed.py), polling, peeking at the paper exchange."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from local.seed import demo_basket, demo_order

if TYPE_CHECKING:
    from collections.abc import Callable


def condor_input(name: str = "NIFTY iron condor") -> dict[str, Any]:
    """The demo NIFTY iron condor (local/demo_baskets.json): a short straddle and its wings, four legs."""
    return demo_basket("nifty-iron-condor", name)


# the condor's four options, in its order: the straddle's call and put, then the wings' call and put
CE_26000, PE_26000, CE_26500, PE_25500 = (
    str(leg["tradingsymbol"]) for strategy in condor_input()["strategies"] for leg in strategy["legs"]
)


def an_order_input(basket_id: str, **overrides: Any) -> dict[str, Any]:
    """A PlaceOrderInput: by default one lot of the 26500 call, bought at a LIMIT of 1.00 so it rests."""
    return demo_order(basket_id, **overrides)


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, interval: float = 0.05) -> None:
    """Poll until `predicate` holds; fail the test after `timeout` seconds (generous: shared, loaded machines)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def exchange_orders(stack: Any, sub: str) -> list[dict[str, Any]]:
    """The user's order book at the paper exchange, read with the official Kite client."""
    from kiteconnect import KiteConnect

    from brokers.kite.accounts import access_token_name
    from brokers.secrets import SsmSecretStore

    token = SsmSecretStore(stack.ssm).get(access_token_name(sub, "paper"))
    return list(KiteConnect("paper", access_token=token, root=stack.exchange_url).orders())


def exchange_order_count(stack: Any, sub: str) -> int:
    return len(exchange_orders(stack, sub))


def invoke(parent: str, field: str, arguments: dict[str, Any] | None, sub: str | None) -> Any:
    """Call the resolver Lambda's handler with an AppSync event, as AppSync does."""
    from local.lambda_context import LambdaContext
    from resolvers.handler import handler
    from tests.events import appsync_event

    return handler(appsync_event(parent, field, arguments, sub), LambdaContext())


def live_condor(sub: str) -> dict[str, Any]:
    """Create and execute the demo condor for `sub`; returns the basket once every leg has filled."""
    import uuid

    draft = invoke("Mutation", "createBasket", {"input": condor_input()}, sub)
    invoke("Mutation", "executeBasket", {"basketId": draft["id"], "clientRequestId": str(uuid.uuid4())}, sub)

    def settled() -> bool:
        basket = invoke("Query", "basket", {"id": draft["id"]}, sub)
        return len(basket["positions"]) == 4 and all(
            o["status"] == "COMPLETE" and o["filledQuantity"] == o["quantity"] for o in basket["orders"]
        )

    wait_until(settled)
    return dict(invoke("Query", "basket", {"id": draft["id"]}, sub))
