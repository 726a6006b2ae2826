"""The AppSync JS resolver code the stack deploys, run in Node with a stand-in for `@aws-appsync/utils`.

The stand-in does what AppSync's does for these calls: `util.error` aborts the resolver with a typed
GraphQL error, `util.dynamodb.toMapValues` writes attribute values, `util.time.nowEpochSeconds` reads the clock.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from typing import TYPE_CHECKING, Any

import pytest

from infra.api import APPSYNC_JS, RESPONSE_JS
from store.spec import DELIVERY_TTL_SECONDS
from subscriptions.publishers import ALREADY_DELIVERED

if TYPE_CHECKING:
    from pathlib import Path

UTILS_STANDIN = """
class AppSyncError extends Error {
  constructor(message, type) { super(message); this.type = type; }
}
function attribute(value) {
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  return { S: String(value) };
}
export const util = {
  error(message, type) { throw new AppSyncError(message, type); },
  dynamodb: {
    toMapValues(values) {
      return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, attribute(v)]));
    },
  },
  time: { nowEpochSeconds() { return Math.floor(Date.now() / 1000); } },
};
"""

DRIVER = """
const [file, fn, ctxJson] = process.argv.slice(2);
const module = await import(`./${file}`);
try {
  console.log(JSON.stringify({ ok: module[fn](JSON.parse(ctxJson)) ?? null }));
} catch (error) {
  console.log(JSON.stringify({ error: { message: error.message, type: error.type } }));
}
"""


@pytest.fixture(scope="module")
def js_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("appsync-js")
    (folder / "package.json").write_text('{"type": "module"}')
    utils = folder / "node_modules" / "@aws-appsync" / "utils"
    utils.mkdir(parents=True)
    (utils / "package.json").write_text('{"name": "@aws-appsync/utils", "type": "module", "main": "index.js"}')
    (utils / "index.js").write_text(UTILS_STANDIN)
    for source in [*APPSYNC_JS.glob("*.js"), RESPONSE_JS]:
        shutil.copyfile(source, folder / source.name)
    (folder / "driver.mjs").write_text(DRIVER)
    return folder


def run(js_dir: Path, file: str, function: str, ctx: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(  # noqa: S603 - node on our own files
        [node, "driver.mjs", file, function, json.dumps(ctx)],
        cwd=js_dir,
        capture_output=True,
        text=True,
        check=True,
    )
    reply: dict[str, Any] = json.loads(result.stdout)
    return reply


def test_deliver_once_puts_the_same_marker_item_the_local_stack_writes(js_dir: Path) -> None:
    before = int(time.time())
    reply = run(js_dir, "deliver_once.js", "request", {"args": {"eventId": "order#o1#3"}})["ok"]
    assert reply["operation"] == "PutItem"
    assert reply["key"] == {"PK": {"S": "EVENT#order#o1#3"}, "SK": {"S": "#EVENT"}}
    assert reply["condition"] == {"expression": "attribute_not_exists(PK)"}
    assert reply["attributeValues"]["type"] == {"S": "Delivery"}
    expires = int(reply["attributeValues"]["expiresAt"]["N"])
    assert before + DELIVERY_TTL_SECONDS <= expires <= int(time.time()) + DELIVERY_TTL_SECONDS


def test_a_repeated_event_is_refused_as_already_delivered(js_dir: Path) -> None:
    ctx = {
        "args": {"eventId": "e1"},
        "error": {"type": "DynamoDB:ConditionalCheckFailedException", "message": "The conditional request failed"},
    }
    error = run(js_dir, "deliver_once.js", "response", ctx)["error"]
    assert error == {"message": "event e1 was already delivered", "type": ALREADY_DELIVERED}
    assert run(js_dir, "deliver_once.js", "response", {"args": {"eventId": "e1"}, "result": {}}) == {"ok": True}


def test_other_table_errors_and_bad_event_ids_are_errors(js_dir: Path) -> None:
    throttled = {"args": {"eventId": "e1"}, "error": {"type": "DynamoDB:ThrottlingException", "message": "slow down"}}
    assert run(js_dir, "deliver_once.js", "response", throttled)["error"]["type"] == "DynamoDB:ThrottlingException"
    for bad in ("", "x" * 201):
        error = run(js_dir, "deliver_once.js", "request", {"args": {"eventId": bad}})["error"]
        assert error["type"] == "ValidationError"


def test_echo_returns_the_event_subscribers_receive(js_dir: Path) -> None:
    args = {"eventId": "e1", "ownerId": "u1", "basketId": "b1", "payload": '{"order": {"id": "o1", "status": "OPEN"}}'}
    event = run(js_dir, "echo_event.js", "response", {"args": args})["ok"]
    assert event == {"order": {"id": "o1", "status": "OPEN"}, "eventId": "e1", "ownerId": "u1", "basketId": "b1"}
    # AppSync may hand AWSJSON arguments over already parsed
    parsed = run(js_dir, "echo_event.js", "response", {"args": {**args, "payload": {"pnl": "1.00"}}})["ok"]
    assert parsed["pnl"] == "1.00"
    assert parsed["ownerId"] == "u1"
    # The payload cannot overwrite who the event is for
    spoof = run(js_dir, "echo_event.js", "response", {"args": {**args, "payload": '{"ownerId": "u2"}'}})["ok"]
    assert spoof["ownerId"] == "u1"


def test_echo_refuses_a_payload_that_is_not_an_object(js_dir: Path) -> None:
    for payload in ("[1, 2]", "3", "null"):
        ctx = {"args": {"eventId": "e", "ownerId": "u", "basketId": "b", "payload": payload}}
        assert run(js_dir, "echo_event.js", "response", ctx)["error"]["type"] == "ValidationError"


def test_pipeline_returns_the_last_steps_result(js_dir: Path) -> None:
    assert run(js_dir, "pipeline.js", "response", {"prev": {"result": {"eventId": "e"}}}) == {"ok": {"eventId": "e"}}


def test_the_lambda_response_function_turns_error_payloads_into_typed_errors(js_dir: Path) -> None:
    refused = {"result": {"error": {"type": "NotFound", "message": "no basket b1"}}}
    assert run(js_dir, "response.js", "response", refused)["error"] == {"message": "no basket b1", "type": "NotFound"}
    assert run(js_dir, "response.js", "response", {"result": {"id": "b1"}}) == {"ok": {"id": "b1"}}
    request = run(js_dir, "response.js", "request", {"arguments": {"id": "b1"}, "identity": {"sub": "u1"}})["ok"]
    assert request["operation"] == "Invoke"
    assert request["payload"]["arguments"] == {"id": "b1"}
    assert request["payload"]["identity"] == {"sub": "u1"}


def _apply_put_item(client: Any, table: str, request: dict[str, Any]) -> str | None:
    """Do what AppSync's DynamoDB data source does with a PutItem request; the error type it would report."""
    from botocore.exceptions import ClientError

    try:
        client.put_item(
            TableName=table,
            Item={**request["key"], **request["attributeValues"]},
            ConditionExpression=request["condition"]["expression"],
        )
    except ClientError as exc:
        return f"DynamoDB:{exc.response['Error']['Code']}"
    return None


def test_appsync_and_the_local_publish_resolver_share_one_delivery_record(
    js_dir: Path, dynamodb_client: Any, table_name: str
) -> None:
    from store.deliveries import DynamoDeliveries

    deliveries = DynamoDeliveries(dynamodb_client, table_name)
    # Given an event AppSync's pipeline recorded
    request = run(js_dir, "deliver_once.js", "request", {"args": {"eventId": "fill#t1"}})["ok"]
    assert _apply_put_item(dynamodb_client, table_name, request) is None
    # Then the local stack's resolver sees it as delivered
    assert deliveries.first("fill#t1") is False
    # And an event the local resolver recorded is refused by AppSync's pipeline as AlreadyDelivered
    assert deliveries.first("fill#t2") is True
    again = run(js_dir, "deliver_once.js", "request", {"args": {"eventId": "fill#t2"}})["ok"]
    error_type = _apply_put_item(dynamodb_client, table_name, again)
    assert error_type == "DynamoDB:ConditionalCheckFailedException"
    ctx = {"args": {"eventId": "fill#t2"}, "error": {"type": error_type, "message": "conditional check failed"}}
    assert run(js_dir, "deliver_once.js", "response", ctx)["error"]["type"] == ALREADY_DELIVERED
