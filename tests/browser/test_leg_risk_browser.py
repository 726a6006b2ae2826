"""The dashboard shows a leg's stop-loss level and it moves live (onRiskState) as a trailing stop follows the price."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

from tests.browser.drive import needs_chromium, real_problems, run_scenario
from tests.helpers import CE_26000, invoke, wait_until
from trading.model import InstrumentRef

if TYPE_CHECKING:
    from local.stack import LocalStack

CALL = InstrumentRef("NFO", CE_26000)


@needs_chromium
def test_the_dashboard_shows_a_legs_stop_loss_and_it_moves_live_as_it_trails(stack: LocalStack) -> None:
    # Given a LIVE basket long the call with a 20-point stop trailed 5 points every 10, its levels set
    username = f"trail{uuid.uuid4().hex[:6]}"
    sub = stack.add_user(username)["sub"]
    stack.set_prices({CALL: Decimal("100.00")})
    risk = {"stopLoss": {"basis": "POINTS", "value": "20"}, "trail": {"step": "10", "offset": "5"}}
    legs = [{"exchange": "NFO", "tradingsymbol": CE_26000, "side": "BUY", "lots": 1, "risk": risk}]
    created = invoke(
        "Mutation", "createBasket", {"input": {"name": "trail", "strategies": [{"name": "s", "legs": legs}]}}, sub
    )
    basket_id = created["id"]
    invoke("Mutation", "executeBasket", {"basketId": basket_id, "clientRequestId": str(uuid.uuid4())}, sub)

    def entered() -> bool:
        positions = invoke("Query", "basket", {"id": basket_id}, sub)["positions"]
        return any(p["netQuantity"] == 65 for p in positions)

    wait_until(entered, timeout=60)
    entry = Decimal(invoke("Query", "basket", {"id": basket_id}, sub)["positions"][0]["averagePrice"])
    stack.set_prices({CALL: entry + Decimal("0.05")})
    wait_until(lambda: invoke("Query", "riskState", {"basketId": basket_id}, sub)["legs"][0]["stopLoss"], timeout=60)
    # When the page is open and the price rises 20 points
    result = run_scenario(
        "leg_risk.mjs",
        {
            "baseUrl": stack.url,
            "username": username,
            "basketId": basket_id,
            "symbol": f"NFO:{CE_26000}",
            "prices": [str(entry + 10), str(entry + 20)],
            "expected": [f"{entry - 20:.2f}", f"{entry - 10:.2f}"],
        },
    )
    # Then it showed the stop where it was set, then trailed two steps, live
    assert result["seen"] == [f"{entry - 20:.2f}", f"{entry - 10:.2f}"]
    assert result["peak"] == f"{entry + 20:.2f}"
    assert real_problems(result) == []
