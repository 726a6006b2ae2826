"""Small shared test helpers: the demo structure, polling, peeking at the paper exchange."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

CE_26000 = "NIFTY26DEC26000CE"
PE_26000 = "NIFTY26DEC26000PE"
CE_26500 = "NIFTY26DEC26500CE"
PE_25500 = "NIFTY26DEC25500PE"


def condor_input(name: str = "NIFTY iron condor") -> dict[str, Any]:
    """A two-strategy, four-leg NIFTY options structure: a short straddle and its wings."""

    def leg(symbol: str, side: str) -> dict[str, Any]:
        return {"exchange": "NFO", "tradingsymbol": symbol, "side": side, "lots": 1}

    return {
        "name": name,
        "strategies": [
            {"name": "short straddle", "legs": [leg(CE_26000, "SELL"), leg(PE_26000, "SELL")]},
            {"name": "wings", "legs": [leg(CE_26500, "BUY"), leg(PE_25500, "BUY")]},
        ],
    }


def an_order_input(basket_id: str, **overrides: Any) -> dict[str, Any]:
    """A PlaceOrderInput: by default one lot of the 26500 call, bought at a LIMIT of 1.00 so it rests."""
    import uuid

    return {
        "basketId": basket_id,
        "clientRequestId": str(uuid.uuid4()),
        "exchange": "NFO",
        "tradingsymbol": CE_26500,
        "side": "BUY",
        "quantity": 65,
        "orderType": "LIMIT",
        "price": "1.00",
        **overrides,
    }


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
    from local.emulator import LambdaContext
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
