"""The live dashboard at / in headless chromium: sign in, create from a template, execute, watch orders, fills,
positions and the P&L chart move over AppSync's real-time protocol, exit; errors read as messages."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

import jwt
from cryptography.hazmat.primitives import serialization

from local.cognito import SIGNING_KEY_FILE
from tests.browser.drive import MovingMarket, needs_chromium, real_problems, run_scenario
from tests.helpers import invoke, live_condor
from tests.integration.test_local_auth import forge

if TYPE_CHECKING:
    from local.stack import LocalStack


@needs_chromium
def test_dashboard_executes_a_basket_and_its_pnl_chart_moves(stack: LocalStack) -> None:
    demo = stack.add_user("demo")
    before = {b["id"] for b in invoke("Query", "baskets", {"limit": 100}, demo["sub"])["items"]}

    with MovingMarket(stack):
        result = run_scenario("dashboard.mjs", {"baseUrl": stack.url, "scenario": "live"})

    assert result["signedInAs"].startswith("demo")
    assert result["created"].startswith("NIFTY iron condor")
    # the new basket is the demo user's, executed and then exited through the API
    after = invoke("Query", "baskets", {"limit": 100}, demo["sub"])["items"]
    (basket,) = [b for b in after if b["id"] not in before]
    assert basket["name"] == result["created"]
    assert basket["status"] == "CLOSED"
    # orders and fills arrived live: four legs filled, then four exit orders
    assert result["orders"] == ["COMPLETE"] * 4
    assert len(result["fills"]) == 4 and all(" 65 NIFTY26DEC" in fill for fill in result["fills"])
    assert len(result["positions"]) == 4
    assert result["exitOrders"] == ["COMPLETE"] * 8
    # the P&L chart grew and redrew, and the figure changed as prices moved
    assert result["chart"]["after"] >= result["chart"]["before"] + 5
    assert result["chart"]["changed"] is True
    assert len(set(result["pnlValues"])) >= 2
    assert all(value.startswith("₹") for value in result["pnlValues"])
    assert result["connection"] == "Live updates: connected"
    assert result["errors"] == []
    assert real_problems(result) == []


@needs_chromium
def test_dashboard_shows_rejections_and_an_expired_token_and_keeps_users_apart(stack: LocalStack) -> None:
    # Given a LIVE basket of the demo user's and a demo token that has expired
    demo = stack.add_user("demo")
    basket = live_condor(demo["sub"])
    now = int(time.time())
    pool_key = serialization.load_pem_private_key((stack.state_dir / SIGNING_KEY_FILE).read_bytes(), None)
    expired = forge(demo["token"], key=pool_key, iat=now - 7200, auth_time=now - 7200, exp=now - 3600)
    session = {"token": expired, "sub": demo["sub"], "username": "demo", "expiresAt": (now - 3600) * 1000}
    # and one that is still valid but expires in a little over two minutes
    expiring = forge(demo["token"], key=pool_key, exp=now + 125)
    expiring_session = {"token": expiring, "sub": demo["sub"], "username": "demo", "expiresAt": (now + 125) * 1000}

    result = run_scenario(
        "dashboard.mjs",
        {
            "baseUrl": stack.url,
            "scenario": "errors",
            "basketId": basket["id"],
            "expiredSession": session,
            "expiringSession": expiring_session,
            "otherUser": "carol",
        },
    )

    # a stop-loss BUY with its trigger above its limit: the paper exchange refuses it, as Kite does
    (rejected,) = result["rejected"]
    assert rejected.startswith("Rejected by the broker")
    assert "Trigger price for stoploss buy orders should be lower than the limit price." in rejected
    assert len(result["rejectedRows"]) == 1 and "REJECTED" in result["rejectedRows"][0]
    # a quantity that is not a lot multiple never reaches the broker
    (invalid,) = result["invalid"]
    assert invalid.startswith("Invalid request") and "not a multiple of its lot size 65" in invalid
    # an expired token: a readable message and the sign-in form, not silence
    (expired_message,) = result["expired"]
    assert expired_message.startswith("Session expired")
    assert "expired" in expired_message.lower().split("session expired", 1)[1]
    assert "Sign in again" in expired_message
    # the basket holds the four legs and the one rejected order; the invalid one wrote nothing
    placed = invoke("Query", "basket", {"id": basket["id"]}, demo["sub"])["orders"]
    assert len(placed) == len(basket["orders"]) + 1
    (refused,) = [o for o in placed if o["status"] == "REJECTED"]
    assert (refused["orderType"], Decimal(refused["price"]), Decimal(refused["triggerPrice"])) == (
        "SL",
        Decimal("100.00"),
        Decimal("120.00"),
    )
    # a session about to expire was renewed with a fresh token before it lapsed, and kept working
    assert result["renewed"]["token"] != expiring
    assert result["renewed"]["expiresAt"] > (now + 3000) * 1000
    assert jwt.decode(result["renewed"]["token"], options={"verify_signature": False})["sub"] == demo["sub"]
    assert result["renewedErrors"] == []
    # another user signed in sees only their own baskets, and their live updates connect
    carol = stack.add_user("carol")
    assert result["otherSignedIn"].startswith("carol")
    theirs = {b["id"] for b in invoke("Query", "baskets", {"limit": 100}, carol["sub"])["items"]}
    assert set(result["otherBaskets"]) == theirs
    assert basket["id"] not in result["otherBaskets"]
    assert result["otherErrors"] == []
    assert [p for p in real_problems(result) if "401" not in p] == []
    invoke("Mutation", "exitBasket", {"basketId": basket["id"], "clientRequestId": str(uuid.uuid4())}, demo["sub"])
