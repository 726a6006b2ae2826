"""Malformed real-time messages get the protocol's typed answer over a real WebSocket to the local stack, never a
crash or a connection dropped without a reason: AppSync's protocol answers `error` and carries on;
graphql-transport-ws closes with the code its spec names for a bad message, and answers `error` for a refused
subscribe. The bounds are the HTTP endpoint's (message size, JSON depth, valid Unicode, AppSync's query limits)."""

from __future__ import annotations

import base64
import json
import struct
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from local.realtime.messages import MAX_MESSAGE_BYTES
from schema.limits import QUERY_DEPTH_LIMIT, RESOLVER_COUNT_LIMIT

if TYPE_CHECKING:
    from collections.abc import Iterator

    from websockets.frames import Close

    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

ON_ORDER = "subscription($o: ID!) { onOrderUpdate(ownerId: $o) { eventId } }"
TIMEOUT = 60  # a generous wait for a frame: the machine may be busy; answers come at once when it is not


def host_of(stack: LocalStack) -> str:
    return stack.url.split("//", 1)[1]


@contextmanager
def appsync_socket(stack: LocalStack, token: str) -> Iterator[ClientConnection]:
    """An acknowledged AppSync real-time connection, the token in the `header-` subprotocol."""
    header = json.dumps({"Authorization": token, "host": host_of(stack)}).encode()
    encoded = base64.urlsafe_b64encode(header).decode().rstrip("=")
    with connect(
        f"ws://{host_of(stack)}/graphql",
        subprotocols=["graphql-ws", f"header-{encoded}"],  # type: ignore[list-item]
        max_size=None,
        open_timeout=TIMEOUT,
    ) as socket:
        socket.send(json.dumps({"type": "connection_init"}))
        assert next_frame(socket)["type"] == "connection_ack"
        yield socket


def next_frame(socket: ClientConnection) -> dict[str, Any]:
    """The next frame that is not a keep-alive."""
    while True:
        frame: dict[str, Any] = json.loads(socket.recv(timeout=TIMEOUT))
        if frame["type"] != "ka":
            return frame


def closing(socket: ClientConnection, frame: str | bytes, *, text: bool | None = None) -> Close:
    """The close frame the server answers `frame` with (frames before it, keep-alives, are read past)."""
    socket.send(frame, text=text)
    with pytest.raises(ConnectionClosed) as closed:
        next_frame(socket)
    assert closed.value.rcvd is not None, "the server closed without a close frame"
    return closed.value.rcvd


def start(operation_id: str, request: Any, **payload: Any) -> str:
    data = request if isinstance(request, str) else json.dumps(request)
    return json.dumps({"type": "start", "id": operation_id, "payload": {"data": data, **payload}})


def nested(depth: int) -> str:
    return '{"a":' * depth + '"x"' + "}" * depth


@pytest.fixture
def user(stack: LocalStack, alice: dict[str, str]) -> dict[str, str]:
    return alice


@pytest.fixture
def appsync(stack: LocalStack, user: dict[str, str]) -> Iterator[ClientConnection]:
    with appsync_socket(stack, user["token"]) as socket:
        yield socket


def starts_fine(socket: ClientConnection, user: dict[str, str], operation_id: str = "fine") -> None:
    """The connection still serves: a valid subscription is acknowledged."""
    socket.send(start(operation_id, {"query": ON_ORDER, "variables": {"o": user["sub"]}}))
    assert next_frame(socket) == {"type": "start_ack", "id": operation_id}


def deep_subscription(depth: int) -> str:
    # nested selections past the depth limit (the limit is counted before the document is validated)
    return 'subscription { onOrderUpdate(ownerId: "u") { ' + "a { " * depth + "b" + " }" * depth + " } }"


# AppSync's query limits (schema/limits.py), counted before the document is validated
OVER_THE_QUERY_LIMITS: list[tuple[str, Any, str]] = [
    ("deeper than the limit", {"query": deep_subscription(QUERY_DEPTH_LIMIT)}, "QueryDepthLimitReached"),
    (
        "more resolved fields than the limit",
        {
            "query": "subscription { "
            + " ".join(f'o{i}: onOrderUpdate(ownerId: "u") {{ eventId }}' for i in range(RESOLVER_COUNT_LIMIT + 1))
            + " }"
        },
        "ResolverCountLimitReached",
    ),
]

# (case, frame: text or bytes, errorType of the id-less `error`)
APPSYNC_BAD_MESSAGES: list[tuple[str, str | bytes, str]] = [
    (
        "over the size bound",
        start("big", {"query": ON_ORDER, "pad": "x" * MAX_MESSAGE_BYTES}),
        "RequestEntityTooLargeException",
    ),
    ("not JSON", "{nope", "BadRequestException"),
    ("JSON but not an object", "[1, 2]", "BadRequestException"),
    ("invalid UTF-8 (a binary frame)", b'{"type": "start"\xff}', "BadRequestException"),
    ("a binary frame", b'{"type": "connection_init"}', "BadRequestException"),
    ("a lone surrogate in the message", '{"type": "start", "id": "\\ud800"}', "BadRequestException"),
    ("nested 100,000 deep", '{"type": "start", "x": ' + "[" * 100_000 + "]" * 100_000 + "}", "BadRequestException"),
    ("nested 50 deep", '{"type": "start", "x": ' + nested(50) + "}", "BadRequestException"),
    ("an unknown type", '{"type": "subscribe_all"}', "UnsupportedOperation"),
    ("no type", '{"id": "1"}', "UnsupportedOperation"),
    ("a type that is not a string", '{"type": {"a": 1}}', "UnsupportedOperation"),
]


@pytest.mark.parametrize(
    ("case", "frame", "error_type"), APPSYNC_BAD_MESSAGES, ids=[m[0] for m in APPSYNC_BAD_MESSAGES]
)
def test_appsync_answers_a_bad_message_with_an_error_and_carries_on(
    appsync: ClientConnection, user: dict[str, str], case: str, frame: str | bytes, error_type: str
) -> None:
    appsync.send(frame)

    error = next_frame(appsync)
    assert error["type"] == "error", error
    assert "id" not in error, error
    (entry,) = error["payload"]["errors"]
    assert entry["errorType"] == error_type, entry
    assert entry["message"] and "Traceback" not in entry["message"]
    starts_fine(appsync, user)


# (case, start payload's request, errorType of the `error` for that id)
APPSYNC_BAD_STARTS: list[tuple[str, Any, str]] = [
    ("data not JSON", "{nope", "ValidationError"),
    ("data nested 100,000 deep", '{"query": "x", "v": ' + "[" * 100_000 + "]" * 100_000 + "}", "ValidationError"),
    ("variables nested 50 deep", '{"query": "subscription { a }", "variables": ' + nested(50) + "}", "ValidationError"),
    ("operationName a number", {"query": ON_ORDER, "operationName": 5}, "ValidationError"),
    ("operationName a list", {"query": ON_ORDER, "operationName": ["A"]}, "ValidationError"),
    (
        "unknown operationName",
        {"query": 'subscription A { onOrderUpdate(ownerId: "u") { eventId } }', "operationName": "B"},
        "ValidationError",
    ),
    ("a lone surrogate in a variable", {"query": ON_ORDER, "variables": {"o": "\ud800"}}, "ValidationError"),
    (
        "a lone surrogate in the query",
        {"query": 'subscription { onOrderUpdate(ownerId: "\ud800") { eventId } }'},
        "ValidationError",
    ),
    (
        "too many tokens",
        {"query": 'subscription { onOrderUpdate(ownerId: "u") { ' + "eventId " * 2500 + "} }"},
        "ValidationError",
    ),
    *OVER_THE_QUERY_LIMITS,
    ("a query, not a subscription", {"query": "query { me { id } }"}, "ValidationError"),
]


@pytest.mark.parametrize(("case", "request_", "error_type"), APPSYNC_BAD_STARTS, ids=[m[0] for m in APPSYNC_BAD_STARTS])
def test_appsync_refuses_a_bad_start_for_its_id_only(
    appsync: ClientConnection, user: dict[str, str], case: str, request_: Any, error_type: str
) -> None:
    appsync.send(start("bad", request_))

    error = next_frame(appsync)
    assert error["type"] == "error", error
    assert error["id"] == "bad"
    (entry,) = error["payload"]["errors"]
    assert entry["errorType"] == error_type, entry
    assert "Traceback" not in entry["message"]
    starts_fine(appsync, user)


def test_appsync_start_extensions_of_any_shape_are_read_safely(appsync: ClientConnection, user: dict[str, str]) -> None:
    # extensions that are not an object carry no authorization: the connection's identity is used
    for number, extensions in enumerate(["a string", [1, 2], 5]):
        appsync.send(start(f"s{number}", {"query": ON_ORDER, "variables": {"o": user["sub"]}}, extensions=extensions))
        assert next_frame(appsync) == {"type": "start_ack", "id": f"s{number}"}


def test_appsync_text_frame_of_invalid_utf8_closes_with_1007(stack: LocalStack, user: dict[str, str]) -> None:
    # RFC 6455 makes the server fail such a connection with 1007 (invalid frame payload data): a reason, not a drop
    with appsync_socket(stack, user["token"]) as socket:
        assert closing(socket, b'{"type": "start"\xff}', text=True).code == 1007


def test_appsync_a_frame_far_over_the_bound_is_closed_with_1009(stack: LocalStack, user: dict[str, str]) -> None:
    """Refused on its header, before its payload is read. Only the header is sent: a payload still arriving
    when the server closes would make its kernel reset the connection, and the close frame could be lost."""
    with appsync_socket(stack, user["token"]) as socket:
        # a text frame, final, marked masked as a client's must be, announcing 8 times the bound; no masking key
        # follows: the server refuses on the length, and any bytes it left unread would make the close a reset
        socket.socket.sendall(struct.pack("!BBQ", 0x81, 0x80 | 127, 8 * MAX_MESSAGE_BYTES))
        with pytest.raises(ConnectionClosed) as closed:
            next_frame(socket)
        assert closed.value.rcvd is not None, "the server closed without a close frame"
        assert closed.value.rcvd.code == 1009


# graphql-transport-ws


@contextmanager
def transport_ws_socket(stack: LocalStack, token: str | None) -> Iterator[ClientConnection]:
    """A graphql-transport-ws connection, acknowledged when a token is given."""
    with connect(
        f"ws://{host_of(stack)}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        max_size=None,
        open_timeout=TIMEOUT,
    ) as socket:
        if token is not None:
            socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": token}}))
            assert json.loads(socket.recv(timeout=TIMEOUT)) == {"type": "connection_ack"}
        yield socket


def subscribe(operation_id: str, payload: Any) -> str:
    return json.dumps({"type": "subscribe", "id": operation_id, "payload": payload})


# (case, frame, close code)
TRANSPORT_WS_BAD_MESSAGES: list[tuple[str, str | bytes, int]] = [
    ("over the size bound", subscribe("big", {"query": ON_ORDER, "pad": "x" * MAX_MESSAGE_BYTES}), 1009),
    ("not JSON", "{nope", 4400),
    ("JSON but not an object", "[1, 2]", 4400),
    ("invalid UTF-8 (a binary frame)", b'{"type": "ping"\xff}', 4400),
    ("a binary frame", b'{"type": "ping"}', 4400),
    ("a lone surrogate in the message", '{"type": "ping", "payload": {"a": "\\ud800"}}', 4400),
    ("nested 100,000 deep", '{"type": "ping", "payload": ' + "[" * 100_000 + "]" * 100_000 + "}", 4400),
    ("variables nested 11 deep", subscribe("v", {"query": ON_ORDER, "variables": json.loads(nested(11))}), 4400),
    ("an unknown type", '{"type": "start"}', 4400),
    ("a subscribe without an id", subscribe("", {"query": ON_ORDER}), 4400),
]


@pytest.mark.parametrize(
    ("case", "frame", "code"), TRANSPORT_WS_BAD_MESSAGES, ids=[m[0] for m in TRANSPORT_WS_BAD_MESSAGES]
)
def test_transport_ws_closes_on_a_bad_message_with_the_specs_code(
    stack: LocalStack, user: dict[str, str], case: str, frame: str | bytes, code: int
) -> None:
    with transport_ws_socket(stack, user["token"]) as socket:
        close = closing(socket, frame)

    assert close.code == code, close
    assert close.reason  # the reason is said


def test_transport_ws_closes_on_a_bad_first_message(stack: LocalStack) -> None:
    with transport_ws_socket(stack, None) as socket:
        close = closing(socket, '{"type": "connection_init", "payload": ' + "[" * 100_000 + "]" * 100_000 + "}")

    assert close.code == 4400, close


TRANSPORT_WS_BAD_SUBSCRIBES: list[tuple[str, Any, str]] = [
    ("operationName a number", {"query": ON_ORDER, "operationName": 5}, "ValidationError"),
    ("unknown operationName", {"query": ON_ORDER, "operationName": "B"}, "ValidationError"),
    (
        "a lone surrogate in the query",
        {"query": 'subscription { onOrderUpdate(ownerId: "\\ud800") { eventId } }'},
        "ValidationError",
    ),
    *OVER_THE_QUERY_LIMITS,
]


@pytest.mark.parametrize(
    ("case", "payload", "error_type"), TRANSPORT_WS_BAD_SUBSCRIBES, ids=[m[0] for m in TRANSPORT_WS_BAD_SUBSCRIBES]
)
def test_transport_ws_refuses_a_bad_subscribe_with_an_error_and_carries_on(
    stack: LocalStack, user: dict[str, str], case: str, payload: Any, error_type: str
) -> None:
    with transport_ws_socket(stack, user["token"]) as socket:
        socket.send(subscribe("bad", payload))
        error = json.loads(socket.recv(timeout=TIMEOUT))
        socket.send('{"type": "ping"}')
        pong = json.loads(socket.recv(timeout=TIMEOUT))

    assert error["type"] == "error" and error["id"] == "bad", error
    (entry,) = error["payload"]
    assert entry["errorType"] == error_type, entry
    assert pong == {"type": "pong"}  # the connection carries on
