"""The dashboard's AppSync real-time client (web/src/realtime.js) under node, against a scripted fake socket."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).with_name("web_realtime.mjs")
HOST = "abc.appsync-api.ap-south-1.amazonaws.com"


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    result = subprocess.run(  # noqa: S603 -- our own script, no network
        [node, str(SCRIPT)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output: dict[str, Any] = json.loads(result.stdout)
    return output


def test_connects_as_appsync_requires(run: dict[str, Any]) -> None:
    # the header (host + Authorization) rides base64 in the URL, with an empty payload, on the graphql-ws protocol
    assert run["url"].startswith("wss://abc.appsync-realtime-api.ap-south-1.amazonaws.com/graphql?header=")
    assert run["protocol"] == "graphql-ws"
    assert run["header"] == {"host": HOST, "Authorization": "token-1"}
    assert json.loads(base64.b64decode(run["payloadParam"])) == {}
    assert run["beforeAck"] == ["connection_init"], "nothing starts before connection_ack"


def test_starts_carry_the_request_and_authorization(run: dict[str, Any]) -> None:
    pnl, fill = run["starts"]
    assert pnl["type"] == "start" and pnl["id"] != fill["id"]
    assert json.loads(pnl["payload"]["data"]) == {
        "query": "subscription S($o: ID!) { onPnl(ownerId: $o) { pnl } }",
        "variables": {"o": "me"},
    }
    assert pnl["payload"]["extensions"] == {"authorization": {"host": HOST, "Authorization": "token-1"}}


def test_data_reaches_its_subscriber_and_a_refused_start_reports_its_error(run: dict[str, Any]) -> None:
    assert run["data"] == [{"onPnl": {"pnl": "1.00"}}, {"onPnl": {"pnl": "2.00"}}], "nothing after stop"
    assert run["errors"] == ["Unauthorized:not yours"]


def test_lost_keepalive_reconnects_with_the_current_token_and_restarts_live_subscriptions(run: dict[str, Any]) -> None:
    assert run["secondHeader"] == {"host": HOST, "Authorization": "token-2"}
    # only the subscription still running is restarted, once, under its id, with the fresh token
    assert run["restarted"] == [
        {"id": run["starts"][0]["id"], "auth": {"host": HOST, "Authorization": "token-2"}},
    ]
    assert run["reconnects"] == 1, "the app is told to re-query"
    assert run["statuses"] == ["connecting", "connected", "reconnecting", "reconnecting", "connected", "closed"]
    assert run["afterStop"] == {"id": run["starts"][0]["id"], "type": "stop"}


def test_a_refused_connection_is_reported_once_and_not_retried(run: dict[str, Any]) -> None:
    assert run["refused"]["statuses"] == ["connecting", "error:UnauthorizedException"]
    assert run["refused"]["errors"] == []
    assert run["refused"]["sockets"] == 3, "no new socket after connection_error"
