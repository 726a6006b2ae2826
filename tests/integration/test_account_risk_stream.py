"""Account limits from the stream, exactly once: concurrent cold stream handlers (Lambda instances on other shards)
all see an account past its daily loss limit; the account is locked once and its basket exited once, and replaying
the batches changes nothing. Through the real stream handler over the embedded DynamoDB and the paper exchange."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from local.lambda_context import LambdaContext
from subscriptions.account_risk import AccountWatch
from subscriptions.handler import Live, make_handler
from subscriptions.pnl import PnlFeed
from tests.helpers import invoke, wait_until
from tests.integration.test_basket_risk import (
    SETTLE_SECONDS,
    Recording,
    create,
    exchange_orders,
    execute,
    leg,
    sent,
    set_price,
    settled,
    stream_records,
    user,
)
from trading.clock import SystemClock
from trading.pnl_engine import PnlEngine

if TYPE_CHECKING:
    from local.stack import LocalStack


def cold_handler(stack: LocalStack) -> Any:
    """A new stream Lambda instance: an empty engine, its own account watch, the stack's ports."""
    live = Live(
        publisher=Recording(),
        pnl=PnlFeed(PnlEngine(), SystemClock(), wait_for_stragglers=False),
        accounts=AccountWatch(lambda: stack.composition.ports),
    )
    return make_handler(lambda: live)


def test_concurrent_stream_handlers_lock_the_account_once_and_exit_its_basket_once(stack: LocalStack) -> None:
    # Given a LIVE basket long 20 HDFCBANK whose P&L fell to -200.00 before its account got a 150.00 daily loss
    # limit (nothing has reacted yet: a limit set is no P&L change)
    sub = user(stack)
    set_price(stack, "HDFCBANK", "1000.00")
    draft = create(sub, [leg("HDFCBANK", "BUY", 20)])
    execute(sub, draft["id"])
    settled(sub, draft["id"], "LIVE")
    set_price(stack, "HDFCBANK", "990.00")
    wait_until(lambda: invoke("Query", "accountRisk", {"broker": "PAPER"}, sub)["dayPnl"] == "-200.00")
    limits = invoke("Mutation", "setAccountLimits", {"input": {"broker": "PAPER", "dailyLossLimit": "150.00"}}, sub)
    assert limits["locked"] is False
    records = stream_records(stack, {f"BASKET#{draft['id']}", "MARK#NSE:HDFCBANK"})
    # When four cold stream handlers get those batches at the same moment
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def deliver() -> None:
        handler = cold_handler(stack)
        start.wait()
        try:
            handler({"Records": records}, LambdaContext())
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Then the account was locked once (limits set, then one lock) and one exit order went to the exchange
    final = settled(sub, draft["id"], "CLOSED")
    assert [(o["side"], o["quantity"]) for o in sent(final)] == [("BUY", 20), ("SELL", 20)]
    assert len(exchange_orders(stack, sub)) == 2
    risk = invoke("Query", "accountRisk", {"broker": "PAPER"}, sub)
    assert [e["kind"] for e in risk["history"]] == ["LIMITS_SET", "LOCKED"]
    assert risk["version"] == 2
    # When every batch since is delivered again, to the stack's handler and to a cold one
    again = {"Records": stream_records(stack, {f"BASKET#{draft['id']}", "MARK#NSE:HDFCBANK", f"ACCOUNT#{sub}"})}
    stack.stream_handler(again, LambdaContext())
    cold_handler(stack)(again, LambdaContext())
    # Then nothing more was locked or sent
    assert invoke("Query", "accountRisk", {"broker": "PAPER"}, sub)["version"] == 2
    assert len(exchange_orders(stack, sub)) == 2
    wait_until(lambda: len(invoke("Query", "basket", {"id": draft["id"]}, sub)["orders"]) == 2, SETTLE_SECONDS)
