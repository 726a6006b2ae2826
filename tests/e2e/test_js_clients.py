"""The AppSync clients front ends use, unchanged, against the local stack under `--tls` (Amplify v6 always opens
wss://): examples/js/amplify.mjs (aws-amplify) and examples/js/apollo.mjs (Apollo + aws-appsync-subscription-link).

Needs the npm packages of package.json (`npm ci` at the repo root). BASKETGRAPH_JS_ROOT names another directory
holding `examples/`, `local/` and `node_modules/` (a scratch install) when the root's node_modules lacks them.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.tls_stack import TlsStack

REPO = Path(__file__).resolve().parents[2]
ROOT = Path(os.environ.get("BASKETGRAPH_JS_ROOT") or REPO)
ORDER = re.compile(r"^order (\w+) (\w+) filled (\d+)/(\d+)$")
FILL = re.compile(r"^fill (\w+) order (\w+) (\d+) @ (\d+\.\d+)$")
EXECUTED = re.compile(r"^executed: basket LIVE, 4 orders \(((?:\w+, ){3}\w+)\)$")


def run_example(stack: TlsStack, example: str, *extra: str) -> list[str]:
    assert (ROOT / "node_modules" / "aws-amplify").exists(), (
        "run `npm ci` at the repo root (or set BASKETGRAPH_JS_ROOT)"
    )
    result = subprocess.run(  # noqa: S603 -- our own example, its one command
        [
            *("node", "--preserve-symlinks", "--preserve-symlinks-main", f"examples/js/{example}.mjs"),
            *("--url", f"{stack.url}/graphql", "--timeout", "90", *extra),
        ],
        cwd=ROOT,
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(stack.ca_file)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout.splitlines()


def assert_every_event_of_the_execution_arrived(stack: TlsStack, lines: list[str], user: dict[str, str]) -> None:
    assert lines[0] == f"signed in as {user['username']} (id {user['sub']})"
    basket_id = re.fullmatch(r"created basket (\w+): NIFTY iron condor, DRAFT", lines[1])
    assert basket_id, lines[1]
    executed = next(EXECUTED.match(line) for line in lines if line.startswith("executed:"))
    assert executed
    order_ids = executed.group(1).split(", ")

    statuses: dict[str, list[str]] = defaultdict(list)
    filled: dict[str, int] = defaultdict(int)
    trades: list[str] = []
    for line in lines:
        if update := ORDER.match(line):
            statuses[update.group(1)].append(update.group(2))
        elif fill := FILL.match(line):
            trades.append(fill.group(1))
            filled[fill.group(2)] += int(fill.group(3))

    # Every order of the execution, as the stack holds it, arrived through onOrderUpdate and onFill
    basket = stack.basket(basket_id.group(1), user["token"])
    assert basket["status"] == "LIVE"
    stored = {order["id"]: order for order in basket["orders"]}
    assert set(stored) == set(order_ids)
    for order_id, order in stored.items():
        assert order["status"] == "COMPLETE"
        assert statuses[order_id][-1] == "COMPLETE", (order_id, statuses[order_id])
        # every change reached the client: the new order, then its fill (a protected MARKET order that fills as
        # it is booked goes PENDING -> COMPLETE with no OPEN in between)
        assert len(statuses[order_id]) >= 2 and set(statuses[order_id]) <= {"PENDING", "OPEN", "COMPLETE"}
        assert filled[order_id] == order["filledQuantity"] == order["quantity"]
    assert len(trades) == len(set(trades)) == len(order_ids), "each fill once"
    assert any(line.startswith("pnl ") for line in lines)
    assert lines[-1] == f"done: 4/4 orders COMPLETE, {sum(filled.values())} units filled, " + lines[-1].split(", ")[-1]


@pytest.mark.parametrize("example", ["amplify", "apollo"])
def test_js_client_queries_executes_and_receives_every_event(tls_stack: TlsStack, example: str) -> None:
    user = tls_stack.add_user(f"js_{example}")
    lines = run_example(tls_stack, example, "--user", user["username"])
    assert_every_event_of_the_execution_arrived(tls_stack, lines, user)


@pytest.mark.parametrize("example", ["amplify", "apollo"])
def test_js_client_refused_another_owner_keeps_its_own_subscriptions(tls_stack: TlsStack, example: str) -> None:
    first = tls_stack.add_user("js_first")
    second = tls_stack.add_user(f"js_second_{example}")

    # When the second user, already subscribed to their own events, subscribes with the first user's ownerId
    lines = run_example(tls_stack, example, "--user", second["username"], "--probe-owner", first["sub"])

    # Then that subscription is refused with the resolver's errorType and message
    probe = next(line for line in lines if line.startswith("probe "))
    assert probe.startswith(f"probe onOrderUpdate(ownerId: {first['sub']}): ")
    assert '"errorType":"Unauthorized"' in probe
    assert "you can subscribe only to your own events" in probe
    # and their own subscriptions still deliver every event of their execution (the server keeps the socket;
    # Amplify closes it on an auth error by design and re-subscribes, which the example waits for)
    assert "still subscribed: onOrderUpdate, onFill, onPnl" in lines
    if example == "amplify":
        assert "amplify: socket closed, reconnecting" in lines
    else:
        assert "amplify: socket closed, reconnecting" not in lines
    assert_every_event_of_the_execution_arrived(tls_stack, lines, second)
