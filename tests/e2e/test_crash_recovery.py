"""Crash the local stack with SIGKILL while it executes and exits baskets and places orders, again and again.

`basketgraph dev` runs as a subprocess on one state directory; a killer strikes at random moments, some
within 100 ms of a response arriving. Each time the stack is started again on the same directory. At the
end: every mutation that returned a result is there with that result, repeating it with its
`clientRequestId` places nothing, every user's broker account still works, and every order the paper
exchange holds is one of ours.
"""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.helpers import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.e2e

KILLS = int(os.environ.get("CRASH_KILLS", "20"))
ROOT = Path(__file__).resolve().parents[2]
ORDER_FIELDS = "id status brokerOrderId clientRequestId quantity"
EXECUTE = (
    "mutation($id: ID!, $rid: String!) { executeBasket(basketId: $id, clientRequestId: $rid) "
    f"{{ basket {{ id status }} orders {{ {ORDER_FIELDS} }} }} }}"
)
EXIT = (
    "mutation($id: ID!, $rid: String!) { exitBasket(basketId: $id, clientRequestId: $rid) "
    f"{{ basket {{ id status }} orders {{ {ORDER_FIELDS} }} }} }}"
)
PLACE = f"mutation($input: PlaceOrderInput!) {{ placeOrder(input: $input) {{ {ORDER_FIELDS} }} }}"
CREATE = "mutation($input: CreateBasketInput!) { createBasket(input: $input) { id } }"
BASKET = f"query($id: ID!) {{ basket(id: $id) {{ id status orders {{ {ORDER_FIELDS} }} }} }}"
LEG = {"exchange": "NFO", "tradingsymbol": "NIFTY26DEC26500CE", "side": "BUY", "lots": 1}


class Stack:
    """One `basketgraph dev` subprocess on `state_dir`."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.log = state_dir.parent / "stack.log"

    def start(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        (self.state_dir / "stack.json").unlink(missing_ok=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own CLI
                [
                    sys.executable,
                    "-m",
                    "local.cli",
                    "--state-dir",
                    str(self.state_dir),
                    "dev",
                    "--port",
                    str(port),
                    "--still-market",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{port}"
        wait_until(self._ready, timeout=120)

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the stack exited with {self.process.returncode}; see {self.log}")
        if not (self.state_dir / "stack.json").exists():
            return False
        try:
            return requests.get(f"{self.url}/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()

    def user(self, name: str) -> dict[str, str]:
        reply = requests.post(f"{self.url}/local/users", json={"username": name}, timeout=60)
        reply.raise_for_status()
        return dict(reply.json())

    def graphql(self, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        reply = requests.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": token},
            timeout=60,
        )
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    def exchange_orders(self, sub: str) -> list[dict[str, Any]]:
        import boto3
        from kiteconnect import KiteConnect

        from brokers.kite.accounts import access_token_name
        from brokers.secrets import SsmSecretStore

        info = json.loads((self.state_dir / "stack.json").read_text())
        ssm = boto3.client("ssm", endpoint_url=info["moto"], region_name="ap-south-1")
        token = SsmSecretStore(ssm).get(access_token_name(sub, "paper"))
        return list(KiteConnect("paper", access_token=token, root=info["exchange"]).orders())


@pytest.fixture
def crashing_stack(tmp_path: Path) -> Iterator[Stack]:
    state = tmp_path / "state"
    state.mkdir()
    stack = Stack(state)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    try:
        yield stack
    finally:
        stack.kill()


def _replied_since(last_reply: list[float], then: float) -> bool:
    return last_reply[0] > then


class Acknowledged:
    """Every mutation whose result came back, by kind: (variables, result)."""

    def __init__(self) -> None:
        self.executions: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.exits: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.orders: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.baskets: list[str] = []
        self.live: list[str] = []
        self.pending: list[str] = []  # executed, PENDING when acknowledged: LIVE once their fills land


def _work(stack: Stack, token: str, done: Acknowledged, rng: random.Random, last_reply: list[float]) -> None:
    """Mutations until the stack dies under us; records only those that returned a result."""

    def call(query: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        body = stack.graphql(token, query, variables)
        last_reply[0] = time.monotonic()
        return body.get("data") if not body.get("errors") else None

    try:
        while True:
            if done.pending and not done.live:  # orders need a LIVE basket: look at one acknowledged PENDING
                basket_id = done.pending.pop(0)
                body = stack.graphql(token, BASKET, {"id": basket_id})
                last_reply[0] = time.monotonic()
                status = ((body.get("data") or {}).get("basket") or {}).get("status")
                if status == "LIVE":
                    done.live.append(basket_id)
                elif status == "PENDING":
                    done.pending.append(basket_id)
            choice = rng.random()
            if done.live and choice < 0.35:
                basket_id = rng.choice(done.live)
                variables: dict[str, Any] = {
                    "input": {"basketId": basket_id, "clientRequestId": str(uuid.uuid4()), **LEG_ORDER}
                }
                result = call(PLACE, variables)
                if result:
                    done.orders.append((variables, result["placeOrder"]))
            elif done.live and choice < 0.5:
                basket_id = done.live.pop(rng.randrange(len(done.live)))
                variables = {"id": basket_id, "rid": str(uuid.uuid4())}
                result = call(EXIT, variables)
                if result:
                    done.exits.append((variables, result["exitBasket"]))
            else:
                created = call(CREATE, {"input": {"name": "crash", "strategies": [{"name": "s", "legs": [LEG]}]}})
                if not created:
                    continue
                basket_id = created["createBasket"]["id"]
                done.baskets.append(basket_id)
                variables = {"id": basket_id, "rid": str(uuid.uuid4())}
                result = call(EXECUTE, variables)
                if result:
                    done.executions.append((variables, result["executeBasket"]))
                    if result["executeBasket"]["basket"]["status"] == "LIVE":
                        done.live.append(basket_id)
                    elif result["executeBasket"]["basket"]["status"] == "PENDING":
                        done.pending.append(basket_id)
    except (requests.RequestException, AssertionError):
        return  # the stack was killed mid-request: that one was never acknowledged


LEG_ORDER = {
    "exchange": "NFO",
    "tradingsymbol": "NIFTY26DEC26500CE",
    "side": "BUY",
    "quantity": 65,
    "orderType": "LIMIT",
    "price": "1.00",
}


def test_sigkill_at_random_moments_loses_nothing_acknowledged(crashing_stack: Stack) -> None:
    stack, done, rng = crashing_stack, Acknowledged(), random.Random(13)
    stack.start()
    user = stack.user("crasher")
    for kill in range(KILLS):
        last_reply = [0.0]
        worker = threading.Thread(target=_work, args=(stack, user["token"], done, rng, last_reply), daemon=True)
        worker.start()
        if kill % 2:  # within 100 ms of a response
            wait_until(functools.partial(_replied_since, last_reply, last_reply[0]), timeout=60)
            time.sleep(rng.uniform(0, 0.1))
        else:
            time.sleep(rng.uniform(0.2, 2.5))
        stack.kill()
        worker.join(60)
        stack.start()
        user = stack.user("crasher")  # a fresh token; the same user

    token = user["token"]
    assert done.executions and done.orders, "the loop acknowledged nothing to check"

    # every acknowledged result is there, with that result
    for variables, result in done.executions + done.exits:
        basket = stack.graphql(token, BASKET, {"id": variables["id"]})["data"]["basket"]
        ours = {order["id"]: order for order in basket["orders"]}
        for order in result["orders"]:
            assert order["id"] in ours, f"acknowledged order {order['id']} of basket {variables['id']} lost"
            if order["brokerOrderId"]:
                assert ours[order["id"]]["brokerOrderId"] == order["brokerOrderId"]
    for variables, result in done.orders:
        basket = stack.graphql(token, BASKET, {"id": variables["input"]["basketId"]})["data"]["basket"]
        assert result["id"] in {order["id"] for order in basket["orders"]}, f"acknowledged order {result['id']} lost"

    # a repeat of each acknowledged mutation places nothing
    before = len(stack.exchange_orders(user["sub"]))
    for variables, result in done.executions:
        again = stack.graphql(token, EXECUTE, variables)
        if again.get("data"):
            assert {o["id"] for o in again["data"]["executeBasket"]["orders"]} == {o["id"] for o in result["orders"]}
    for variables, result in done.orders:
        again = stack.graphql(token, PLACE, variables)
        if again.get("data"):
            assert again["data"]["placeOrder"]["id"] == result["id"]
    assert len(stack.exchange_orders(user["sub"])) == before, "a repeated clientRequestId placed an order"

    # an order left working before a crash is no zombie: it can still be cancelled
    still_live = set(done.live)
    working = next(
        (r for v, r in reversed(done.orders) if r["status"] == "OPEN" and v["input"]["basketId"] in still_live), None
    )
    if working is not None:
        cancelled = stack.graphql(
            token, "mutation($id: ID!) { cancelOrder(id: $id) { id status } }", {"id": working["id"]}
        )
        assert not cancelled.get("errors"), cancelled

    # the broker account still works, and the exchange holds no order unknown to us
    fresh = stack.graphql(token, CREATE, {"input": {"name": "after", "strategies": [{"name": "s", "legs": [LEG]}]}})
    executed = stack.graphql(token, EXECUTE, {"id": fresh["data"]["createBasket"]["id"], "rid": str(uuid.uuid4())})
    assert executed.get("data"), executed
    known = set()
    for basket_id in [*done.baskets, fresh["data"]["createBasket"]["id"]]:
        basket = stack.graphql(token, BASKET, {"id": basket_id})["data"]["basket"]
        known |= {o["brokerOrderId"] for o in basket["orders"] if o["brokerOrderId"]}
        known |= {o["id"] for o in basket["orders"]}
    strangers = [
        o for o in stack.exchange_orders(user["sub"]) if o["order_id"] not in known and o.get("tag") not in known
    ]
    assert not strangers, f"orders at the exchange unknown to us: {strangers}"
    stack.stop()
