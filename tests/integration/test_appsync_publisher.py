"""The stream handler's AppSync publisher: SigV4-signed HTTPS requests, checked by an AppSync stand-in.

The stand-in verifies the request's signature the way AppSync does (botocore recomputes it from
the signed headers and the body) and then executes the publish mutation on the local stack's
emulator as the IAM caller, so delivery, its once-only rule and the subscriber all run for real.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from subscriptions.publishers import AppSyncPublisher, PublishFailed
from trading.ids import BasketId, OwnerId
from trading.ports import LiveEvent

if TYPE_CHECKING:
    from collections.abc import Iterator

    from local.stack import LocalStack

REGION = "ap-south-1"
HOST = "example1234567890000.appsync-api.ap-south-1.amazonaws.com"
ROLE = Credentials("AKIDSTREAMFUNCTION", "stream-function-secret", "session-token-of-the-role")


def signature_is_valid(headers: dict[str, str], body: bytes, credentials: Credentials) -> bool:
    """Recompute AppSync's SigV4 over the signed headers and the body; compare with the request's."""
    authorization = headers.get("authorization", "")
    if not authorization.startswith("AWS4-HMAC-SHA256 "):
        return False
    parts = dict(part.strip().split("=", 1) for part in authorization.removeprefix("AWS4-HMAC-SHA256 ").split(","))
    signed = parts["SignedHeaders"].split(";")
    request = AWSRequest(
        method="POST",
        url=f"https://{HOST}/graphql",
        data=body,
        headers={name: headers[name] for name in signed if name in headers},
    )
    request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(credentials, "appsync", REGION)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    return bool(parts["Signature"] == expected and parts["Credential"].startswith(f"{credentials.access_key}/"))


class AppSyncStandIn:
    """POST /graphql: 401 unless signed by `ROLE` for `HOST`; then the emulator runs it as IAM."""

    def __init__(self, stack: LocalStack) -> None:
        self.requests: list[dict[str, Any]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                stand_in.requests.append({"headers": headers, "body": json.loads(body)})
                if headers.get("host") != HOST or not signature_is_valid(headers, body, ROLE):
                    self.reply(401, {"errors": [{"errorType": "UnauthorizedException", "message": "bad signature"}]})
                    return
                request = json.loads(body)
                self.reply(200, stack.endpoint.execute_as_iam(request["query"], request["variables"]))

            def reply(self, status: int, answer: dict[str, Any]) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/graphql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def appsync(stack: LocalStack) -> Iterator[AppSyncStandIn]:
    stand_in = AppSyncStandIn(stack)
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()


def publisher_for(appsync: AppSyncStandIn, credentials: Credentials = ROLE) -> AppSyncPublisher:
    publisher = AppSyncPublisher(f"https://{HOST}/graphql", REGION, timeout=5, credentials=credentials)
    publisher.url = appsync.url  # same signed request, sent to the stand-in on loopback
    return publisher


def a_fill_event(owner: str) -> LiveEvent:
    basket = f"b-{uuid.uuid4().hex[:8]}"
    return LiveEvent(
        kind="fill",
        event_id=f"fill:{uuid.uuid4().hex}",
        owner=OwnerId(owner),
        basket_id=BasketId(basket),
        payload={
            "fill": {
                "tradeId": "T1",
                "orderId": "O1",
                "basketId": basket,
                "exchange": "NFO",
                "tradingsymbol": "NIFTY26DEC26000CE",
                "side": "BUY",
                "quantity": 65,
                "price": "120.50",
                "filledAt": "2026-11-24T04:00:00.000000Z",
                "recordedAt": "2026-11-24T04:00:00.120000Z",
            }
        },
    )


def test_a_signed_publish_reaches_the_subscriber_once_even_when_sent_twice(
    stack: LocalStack, alice: dict[str, str], appsync: AppSyncStandIn
) -> None:
    owner = alice["sub"]
    event = a_fill_event(owner)

    async def scenario() -> list[dict[str, Any]]:
        subscription = stack.pubsub.subscribe("onFill", {"ownerId": owner, "basketId": event.basket_id})
        publisher = publisher_for(appsync)
        # When the stream handler publishes the event, and a retried batch publishes it again
        await asyncio.to_thread(publisher.publish, event)
        await asyncio.to_thread(publisher.publish, event)
        received = [await asyncio.wait_for(subscription.__anext__(), 10)]
        with contextlib.suppress(TimeoutError):
            received.append(await asyncio.wait_for(subscription.__anext__(), 0.5))
        subscription.close()
        return received

    received = asyncio.run(scenario())

    # Then both requests were signed for AppSync and selected every field, and the subscriber heard it once
    assert len(appsync.requests) == 2
    sent = appsync.requests[0]
    assert sent["headers"]["x-amz-security-token"] == ROLE.token
    assert "/ap-south-1/appsync/aws4_request" in sent["headers"]["authorization"]
    assert sent["body"]["variables"]["eventId"] == event.event_id
    for field in ("eventId", "ownerId", "basketId", "tradingsymbol", "filledAt", "recordedAt"):
        assert field in sent["body"]["query"]
    assert len(received) == 1
    assert received[0]["eventId"] == event.event_id
    assert received[0]["fill"]["price"] == "120.50"
    assert received[0]["fill"]["recordedAt"] == "2026-11-24T04:00:00.120000Z"


def test_a_publish_signed_with_other_credentials_fails_and_delivers_nothing(
    stack: LocalStack, alice: dict[str, str], appsync: AppSyncStandIn
) -> None:
    owner = alice["sub"]
    event = a_fill_event(owner)
    impostor = Credentials(ROLE.access_key, "not-the-role-secret", ROLE.token)

    with pytest.raises(PublishFailed, match="UnauthorizedException"):
        publisher_for(appsync, impostor).publish(event)

    # The event id was never delivered: the right role can still publish it
    publisher_for(appsync).publish(event)
    assert len(appsync.requests) == 2


def test_an_unreachable_appsync_is_a_publish_failure(appsync: AppSyncStandIn, alice: dict[str, str]) -> None:
    publisher = publisher_for(appsync)
    publisher.url = "http://127.0.0.1:9/graphql"  # nothing listens on the discard port
    with pytest.raises(PublishFailed, match="did not answer publishFill"):
        publisher.publish(a_fill_event(alice["sub"]))
