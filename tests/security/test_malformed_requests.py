"""Malformed GraphQL requests get a typed error in AppSync's shape, never an HTTP 500, and write nothing."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest
import requests

from local.emulator.requests import MAX_REQUEST_BYTES
from schema.limits import QUERY_DEPTH_LIMIT, RESOLVER_COUNT_LIMIT
from tests.helpers import condor_input

if TYPE_CHECKING:
    from local.stack import LocalStack
    from tests.security.conftest import Recorder

pytestmark = pytest.mark.e2e

CREATE = "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id name } }"
BASKET = "query($id: ID!) { basket(id: $id) { id } }"


def nested(depth: int) -> bytes:
    """A create request whose risk limits are objects nested `depth` deep (JSON text: encoders recurse)."""
    basket = json.dumps({**condor_input(), "risk": "RISK"}).encode()
    risk = b'{"a":' * depth + b'"x"' + b"}" * depth
    return (
        json.dumps({"query": CREATE, "variables": {"i": "BASKET"}})
        .encode()
        .replace(b'"BASKET"', basket.replace(b'"RISK"', risk))
    )


def post(stack: LocalStack, token: str, body: bytes | dict[str, Any]) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        f"{stack.url}/graphql",
        data=data,
        headers={"Authorization": token, "content-type": "application/json"},
        timeout=60,
    )


def typed_errors(reply: requests.Response) -> list[dict[str, Any]]:
    """The reply's errors, each in AppSync's shape with an errorType."""
    assert reply.status_code < 500, reply.text
    errors: list[dict[str, Any]] = reply.json()["errors"]
    assert errors
    for error in errors:
        assert {"path", "locations", "errorType", "message"} <= set(error), error
        assert error["errorType"] and error["errorType"] != "InternalError", error
        assert "Traceback" not in error["message"]
    return errors


MALFORMED: list[tuple[str, Any, int, str]] = [
    # (case, body, HTTP status, errorType)
    (
        "variables nested 1,000 deep",
        nested(1000),
        400,
        "MalformedHttpRequestException",  # deeper than the JSON decoder goes: refused as it parses
    ),
    ("variables nested 50 deep", nested(50), 200, "ValidationError"),
    (
        "variables nested 100,000 deep",
        b'{"query": "{ me { id } }", "variables": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        400,
        "MalformedHttpRequestException",
    ),
    (
        "operationName a number",
        {"query": "query A { me { id } }", "operationName": 5},
        400,
        "MalformedHttpRequestException",
    ),
    (
        "operationName a list",
        {"query": "query A { me { id } }", "operationName": ["A"]},
        400,
        "MalformedHttpRequestException",
    ),
    ("unknown operationName", {"query": "query A { me { id } }", "operationName": "B"}, 200, "ValidationError"),
    ("two operations, no name", {"query": "query A { me { id } } query B { me { id } }"}, 200, "ValidationError"),
    ("variables a list", {"query": BASKET, "variables": ["x"]}, 400, "MalformedHttpRequestException"),
    ("query not a string", {"query": {"q": 1}}, 400, "MalformedHttpRequestException"),
    ("not JSON", b"{nope", 400, "MalformedHttpRequestException"),
    ("invalid UTF-8", b'{"query": "{ me { id } }\xff"}', 400, "MalformedHttpRequestException"),
    ("lone surrogate in an id variable", {"query": BASKET, "variables": {"id": "\ud800"}}, 200, "ValidationError"),
    (
        "lone surrogate in a basket name",
        {"query": CREATE, "variables": {"i": {**condor_input(), "name": "condor \ud800"}}},
        200,
        "ValidationError",
    ),
    ("lone surrogate in the query", {"query": '{ basket(id: "\ud800") { id } }'}, 200, "ValidationError"),
    ("escaped lone surrogate literal", {"query": '{ basket(id: "\\ud800") { id } }'}, 200, "ValidationError"),
    ("lone surrogate in a variable name", {"query": BASKET, "variables": {"\udfff": "x"}}, 200, "ValidationError"),
    (
        "control character in a name",
        {"query": CREATE, "variables": {"i": {**condor_input(), "name": "a\u0000b"}}},
        200,
        "ValidationError",
    ),
    ("syntax error", {"query": "query { me { id }"}, 200, "ValidationError"),
    ("too many tokens", {"query": "{ " + "me { id } " * 600 + "}"}, 200, "ValidationError"),
    (
        "over the size limit",
        {"query": "{ me { id } }", "variables": {"pad": "x" * (MAX_REQUEST_BYTES + 1)}},
        413,
        "RequestEntityTooLargeException",
    ),
]


@pytest.mark.parametrize(("case", "body", "status", "error_type"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_request_gets_a_typed_error_and_writes_nothing(
    stack: LocalStack,
    alice: dict[str, str],
    user_writes: Recorder,
    case: str,
    body: Any,
    status: int,
    error_type: str,
) -> None:
    reply = post(stack, alice["token"], body)

    errors = typed_errors(reply)
    assert reply.status_code == status, reply.text
    assert errors[0]["errorType"] == error_type, errors
    assert user_writes.calls == []


def test_a_name_is_valid_unicode_text_of_bounded_length(
    stack: LocalStack, alice: dict[str, str], user_writes: Recorder
) -> None:
    # Unicode text is a fine name (and the write recorder sees the emulator's writes); past the bound it is refused
    fine = post(stack, alice["token"], {"query": CREATE, "variables": {"i": {**condor_input(), "name": "निफ्टी 🦅"}}})
    too_long = post(stack, alice["token"], {"query": CREATE, "variables": {"i": {**condor_input(), "name": "n" * 201}}})

    assert fine.json()["data"]["createBasket"]["name"] == "निफ्टी 🦅"
    assert "PutItem" in user_writes.calls or "TransactWriteItems" in user_writes.calls, user_writes.calls
    assert typed_errors(too_long)[0]["errorType"] == "ValidationError"
    assert typed_errors(too_long)[0]["path"] == ["createBasket"]


def test_query_limits_refuse_before_any_resolver_runs(
    stack: LocalStack, alice: dict[str, str], resolver_calls: Recorder
) -> None:
    aliases = "{ " + " ".join(f'b{i}: basket(id: "x{i}") {{ id }}' for i in range(1000)) + " }"
    at_limit = "{ " + " ".join(f"m{i}: me {{ id }}" for i in range(RESOLVER_COUNT_LIMIT)) + " }"
    over_limit = "{ " + " ".join(f"m{i}: me {{ id }}" for i in range(RESOLVER_COUNT_LIMIT + 1)) + " }"
    fragments = "query { ...F } fragment F on Query { " + " ".join(f"m{i}: me {{ id }}" for i in range(11)) + " }"
    deep = (
        "{ __schema { types { "
        + "fields { type { " * QUERY_DEPTH_LIMIT
        + "name"
        + " } }" * QUERY_DEPTH_LIMIT
        + " } } }"
    )

    started = time.monotonic()
    refused = post(stack, alice["token"], {"query": aliases})
    elapsed = time.monotonic() - started

    # the emulator's token bound stops the parse first (AppSync's resolver count would refuse it too)
    assert typed_errors(refused)[0]["errorType"] == "ValidationError"
    assert "tokens" in typed_errors(refused)[0]["message"]
    assert resolver_calls.calls == [], "no resolver ran"
    assert "errors" not in post(stack, alice["token"], {"query": at_limit}).json()
    assert resolver_calls.calls == ["me"] * RESOLVER_COUNT_LIMIT
    resolver_calls.clear()
    assert (
        typed_errors(post(stack, alice["token"], {"query": over_limit}))[0]["errorType"] == "ResolverCountLimitReached"
    )
    assert (
        typed_errors(post(stack, alice["token"], {"query": fragments}))[0]["errorType"] == "ResolverCountLimitReached"
    )
    assert typed_errors(post(stack, alice["token"], {"query": deep}))[0]["errorType"] == "QueryDepthLimitReached"
    assert resolver_calls.calls == []
    print(f"1,000 aliases refused in {elapsed * 1000:.0f} ms")


def test_graphiqls_introspection_query_is_within_the_limits(stack: LocalStack, alice: dict[str, str]) -> None:
    from graphql import get_introspection_query

    reply = post(stack, alice["token"], {"query": get_introspection_query(descriptions=True)})

    assert reply.status_code == 200
    assert "errors" not in reply.json(), reply.json().get("errors")
