"""The live dashboard at / in headless chromium: sign in, create from a template, execute, watch orders, fills,
positions and the P&L chart move over AppSync's real-time protocol, exit; errors read as messages."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import jwt
from cryptography.hazmat.primitives import serialization

from local.cognito import SIGNING_KEY_FILE
from tests.browser.drive import MovingMarket, needs_chromium, real_problems, run_scenario
from tests.helpers import invoke, live_condor
from tests.integration.test_local_auth import forge

if TYPE_CHECKING:
    from local.stack import LocalStack

MINUS = "\u2212"
TIMES = "\u00d7"  # the multiplication sign of "2 lots x 65"
# ₹ with Indian grouping (the last three digits, then pairs) and two decimals: ₹65.00, ₹1,215.50, ₹12,34,567.00
RUPEES = re.compile(rf"^[+{MINUS}]?₹(\d{{1,3}}|\d{{1,2}}(,\d{{2}})*,\d{{3}})\.\d{{2}}$")


def indian(amount: Decimal) -> str:
    """`amount` as the dashboard must show it, written independently of web/src/format.js."""
    quantized = amount.quantize(Decimal("0.01"))
    whole, fraction = f"{abs(quantized):.2f}".split(".")
    head, tail = whole[:-3], whole[-3:]
    pairs = [head[max(0, i - 2) : i] for i in range(len(head), 0, -2)][::-1]
    sign = MINUS if quantized < 0 else ""
    return f"{sign}₹{','.join([*pairs, tail])}.{fraction}"


def minutes_until(hhmm: str) -> int:
    """Minutes from now (IST) to the next `hhmm` (IST)."""
    now = datetime.now(ZoneInfo("Asia/Kolkata"))
    hour, minute = map(int, hhmm.split(":"))
    return (hour * 60 + minute - (now.hour * 60 + now.minute)) % (24 * 60)


def rupees_shown(text: str) -> Decimal:
    return Decimal(text.replace("₹", "").replace(",", "").replace(MINUS, "-").lstrip("+"))


def test_indian_matches_the_grouping_it_checks() -> None:
    assert indian(Decimal("1215.5")) == "₹1,215.50"
    assert indian(Decimal("-1234567")) == f"{MINUS}₹12,34,567.00"
    assert indian(Decimal("65")) == "₹65.00"
    assert all(RUPEES.match(indian(Decimal(v))) for v in ("0", "999.99", "100000", "-123456789.5"))
    assert not RUPEES.match("₹1215.50") and not RUPEES.match("₹1,234,567.00")


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
    one_lot = f"65 (1 lot {TIMES} 65)"
    assert len(result["fills"]) == 4 and all("NIFTY26DEC" in f and one_lot in f for f in result["fills"])
    assert len(result["positions"]) == 4
    api = invoke("Query", "basket", {"id": basket["id"]}, demo["sub"])
    # the page was read while LIVE: the four entry orders (the exit's four came later) and their fills
    entry = sorted(api["orders"], key=lambda o: o["createdAt"])[:4]
    book = invoke("Query", "fills", {"basketId": basket["id"], "limit": 50}, demo["sub"])["items"]
    entry_fills = [f for f in book if f["orderId"] in {o["id"] for o in entry}]
    assert result["basketId"] == basket["id"]
    read = result["read"]
    # every amount on the page is rupees in Indian grouping; the positions' buy values are the API's, exactly
    assert read["money"] and all(RUPEES.match(m) or m == "—" for m in read["money"]), read["money"]
    bought = sorted(indian(Decimal(f["price"]) * f["quantity"]) for f in entry_fills if f["side"] == "BUY")
    assert sorted(v for v in read["buyValues"] if v != "₹0.00") == bought
    assert any("," in m for m in read["money"]), "some amount is at least ₹1,000 and grouped"
    # quantities in lots with the lot size; the order form hints the lot size
    assert sorted(read["positionQuantities"]) == sorted([one_lot] * 2 + [f"{MINUS}{one_lot}"] * 2)
    assert [o["quantity"] for o in read["orderRows"]] == [one_lot] * 4
    assert result["lotHint"].startswith("Lot size 65")
    assert result["lotHintTyped"] == f"130 (2 lots {TIMES} 65)."
    # positions grouped under their strategies, each with the exact sum of its rows' P&L
    assert [g["name"] for g in read["groups"]] == ["short straddle", "wings"]
    for group in read["groups"]:
        assert len(group["rows"]) == 2 and RUPEES.match(group["pnl"])
        assert rupees_shown(group["pnl"]) == sum(rupees_shown(r) for r in group["rows"])
    # orders: IST time, product, type and the broker's order id
    broker_ids = sorted(o["brokerOrderId"] for o in entry)
    assert sorted(o["brokerOrderId"] for o in read["orderRows"]) == broker_ids and all(broker_ids)
    assert all(re.fullmatch(r"(\d{2} \w{3} )?\d{2}:\d{2}:\d{2}", o["time"]) for o in read["orderRows"])
    assert {o["product"] for o in read["orderRows"]} <= {"MIS", "NRML", "CNC"}
    assert {o["type"] for o in read["orderRows"]} == {"MARKET"}
    # the basket list shows the basket's P&L
    assert RUPEES.match(result["listPnl"])
    # the chart: zero inside the range, a floor span so a small swing is not a cliff, and a caption
    for seen in (read, result["reloaded"]):
        assert seen["chart"]["yMin"] <= 0 <= seen["chart"]["yMax"]
        assert seen["chart"]["yMax"] - seen["chart"]["yMin"] >= 1000
        assert "₹0 until the first fill" in seen["caption"]
    # after a reload: the trade book from fills (no live event needed), the same four trades, and history
    reloaded = result["reloaded"]
    assert sorted(reloaded["fillIds"]) == sorted(f["tradeId"] for f in entry_fills) and len(entry_fills) == 4
    assert reloaded["chart"]["points"] >= 2, "₹0 until the first fill, then the figure at page load"
    assert [g["name"] for g in reloaded["groups"]] == ["short straddle", "wings"]
    assert RUPEES.match(reloaded["listPnl"])
    assert result["exitOrders"] == ["COMPLETE"] * 8
    # the P&L chart grew and redrew, and the figure changed as prices moved
    assert result["chart"]["after"] >= result["chart"]["before"] + 5
    assert result["chart"]["changed"] is True
    assert len(set(result["pnlValues"])) >= 2
    assert all(RUPEES.match(value) for value in result["pnlValues"]), result["pnlValues"]
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
    # an exit time inside the session whose next occurrence is hours away, so it cannot fire during the test
    quiet_exit = max(("09:20", "12:20", "15:20"), key=minutes_until)
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
            "quietExit": quiet_exit,
        },
    )

    # the basket list: every traded basket's P&L, as the API has it, before any basket was opened
    listed = result["listPnl"]
    assert basket["id"] in {item["id"] for item in listed}
    for item in listed[:20]:
        if item["status"] == "DRAFT":
            assert item["pnl"] is None
        else:
            figure = invoke("Query", "pnl", {"basketId": item["id"]}, demo["sub"])["pnl"]
            assert item["pnl"] == indian(Decimal(figure)), item
    # a stop-loss BUY with its trigger above its limit: the paper exchange refuses it, as Kite does
    (rejected,) = result["rejected"]
    assert rejected.startswith("Rejected by the broker")
    assert "Trigger price for stoploss buy orders should be lower than the limit price." in rejected
    assert len(result["rejectedRows"]) == 1 and "REJECTED" in result["rejectedRows"][0]
    assert result["statusMessages"] == [
        "BUY NIFTY26DEC26500CE: Trigger price for stoploss buy orders should be lower than the limit price."
    ]
    # a quantity that is not a lot multiple never reaches the broker
    (invalid,) = result["invalid"]
    assert invalid.startswith("Invalid request") and "not a multiple of its lot size 65" in invalid
    # risk limits: shown, a bad max loss refused with a message, a good one saved and still there after a reload
    assert "Max loss not set" in result["settingsBefore"].replace("\n", " ")
    (bad,) = result["badMaxLoss"]
    assert bad.startswith("Invalid request")
    assert any("max loss ₹1,50,000.00" in notice for notice in result["saved"])
    assert result["maxLossAfterReload"] == "₹1,50,000.00"
    assert result["targetAfterReload"] == "not set"
    risk = invoke("Query", "basket", {"id": basket["id"]}, demo["sub"])["risk"]
    assert (Decimal(risk["maxLoss"]), risk["target"]) == (Decimal("150000"), None)
    # the schedule: an exit outside the session refused with a message, one inside it saved, the max loss kept
    (bad_exit,) = result["badExit"]
    assert bad_exit.startswith("Invalid request"), bad_exit
    assert result["exitAfterReload"] == f"{quiet_exit} IST"
    assert result["maxLossAfterSchedule"] == "₹1,50,000.00"
    schedule = invoke("Query", "basket", {"id": basket["id"]}, demo["sub"])["schedule"]
    assert schedule == {"entryAt": None, "exitAt": quiet_exit}
    # loading is not shown as empty: while the list is on its way it says so, and only then "No baskets yet"
    assert "Loading baskets" in result["whileLoading"]["text"] and result["whileLoading"]["empty"] == 0
    assert "No baskets yet" in result["loaded"]["text"] and result["loaded"]["loading"] == 0
    # an expired token: a readable message and the sign-in form, not silence
    # (one "Session expired" alert; a request still in flight as the page signs out may add an alert of its own)
    expired = [m for m in result["expired"] if m.startswith("Session expired")]
    assert len(expired) == 1, result["expired"]
    (expired_message,) = expired
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
    # the demo user's basket by its link, for carol: not found (as a missing one), then nothing selected
    (not_found,) = result["foreignLink"]["errors"]
    assert not_found.startswith("Not found") and basket["id"] in not_found
    assert result["foreignLink"]["loading"] == 0 and result["foreignLink"]["hash"] == ""
    assert [p for p in real_problems(result) if "401" not in p] == []
    invoke("Mutation", "exitBasket", {"basketId": basket["id"], "clientRequestId": str(uuid.uuid4())}, demo["sub"])
