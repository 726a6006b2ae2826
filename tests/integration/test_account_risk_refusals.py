"""Account controls refuse bad input and locked accounts' orders without writing anything (counted at the resolver
handler's DynamoDB client), and are scoped to the caller."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers import CE_26000, exchange_order_count, invoke, live_condor
from tests.integration.test_refusals import refused

if TYPE_CHECKING:
    from tests.stack_fixtures import WriteLog


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"broker": "PAPER", "dailyLossLimit": "0"}, "dailyLossLimit must be a positive amount"),
        ({"broker": "PAPER", "dailyLossLimit": "\uff11\uff10\uff10"}, "dailyLossLimit must be a plain decimal"),
        ({"broker": "PAPER", "dailyProfitTarget": "10.001"}, "more than two decimals"),
        ({"broker": "PAPER", "maxOrdersPerDay": 100_001}, "maxOrdersPerDay must be between 1 and 100000"),
        ({"broker": "NOBROKER"}, "broker must be one of"),
    ],
)
def test_bad_account_limits_are_refused_and_write_nothing(
    alice: dict[str, str], writes: WriteLog, arguments: dict[str, Any], message: str
) -> None:
    writes.clear()
    kind, text = refused(invoke("Mutation", "setAccountLimits", {"input": arguments}, alice["sub"]))
    assert (kind, message in text) == ("ValidationError", True), text
    assert writes.made() == []


def a_user(stack: Any) -> str:
    """A user of the test's own: a lock must not reach the session's alice and bob."""
    return str(stack.add_user(f"locked{uuid.uuid4().hex[:8]}")["sub"])


def test_a_locked_accounts_place_order_writes_nothing_and_sends_nothing(writes: WriteLog, stack: Any) -> None:
    sub = a_user(stack)
    live = live_condor(sub)
    invoke("Mutation", "killSwitch", {"broker": "PAPER", "reason": "test"}, sub)
    before = exchange_order_count(stack, sub)
    writes.clear()
    order = {"basketId": live["id"], "clientRequestId": str(uuid.uuid4()), "exchange": "NFO"}
    order |= {"tradingsymbol": CE_26000, "side": "BUY", "quantity": 65}
    kind, text = refused(invoke("Mutation", "placeOrder", {"input": order}, sub))
    assert kind == "TradingHalted"
    assert "until resetKillSwitch: test" in text
    assert writes.made() == []
    assert exchange_order_count(stack, sub) == before


def test_the_kill_switch_of_one_user_leaves_anothers_account_alone(stack: Any) -> None:
    mine, theirs = a_user(stack), a_user(stack)
    invoke("Mutation", "killSwitch", {"broker": "PAPER"}, mine)
    assert invoke("Query", "accountRisk", {"broker": "PAPER"}, theirs)["locked"] is False
    risk = invoke("Query", "accountRisk", {"broker": "PAPER"}, mine)
    assert (risk["locked"], risk["halt"]["reason"], risk["halt"]["by"]) == (True, "kill switch engaged", mine)
