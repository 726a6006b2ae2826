"""CORS on the local stack's GraphQL endpoint as AppSync answers it: a page on another local origin (a Vite dev
server) can preflight, query and read the answer; other sites and the stack's own /local routes get no CORS."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import requests

if TYPE_CHECKING:
    from local.stack import LocalStack

APPSYNC_HEADERS = "authorization,x-api-key,x-amz-date,x-amz-security-token,x-amz-user-agent,content-type"


def preflight(url: str, origin: str, headers: str = APPSYNC_HEADERS) -> requests.Response:
    return requests.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
        timeout=30,
    )


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:8080", "https://app.localhost:3000"])
def test_a_local_page_preflights_and_queries_graphql(stack: LocalStack, origin: str) -> None:
    demo = stack.add_user("demo")

    # When a page on another local origin preflights a POST with every header AppSync allows
    answer = preflight(f"{stack.url}/graphql", origin)

    # Then the preflight is allowed for that origin and those headers
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == origin
    allowed = {header.strip().lower() for header in answer.headers["access-control-allow-headers"].split(",")}
    assert set(APPSYNC_HEADERS.split(",")) <= allowed
    assert "POST" in answer.headers["access-control-allow-methods"]

    # And the query itself carries the origin back, so the browser hands the page the answer
    reply = requests.post(
        f"{stack.url}/graphql",
        json={"query": "{ me { id } }"},
        headers={"Origin": origin, "Authorization": demo["token"], "x-amz-user-agent": "aws-amplify/6"},
        timeout=30,
    )
    assert reply.status_code == 200
    assert reply.json() == {"data": {"me": {"id": demo["sub"]}}}
    assert reply.headers["access-control-allow-origin"] == origin


def test_other_sites_and_headers_beyond_appsyncs_are_not_allowed(stack: LocalStack) -> None:
    refused = preflight(f"{stack.url}/graphql", "https://evil.example")
    assert "access-control-allow-origin" not in refused.headers

    odd_header = preflight(f"{stack.url}/graphql", "http://localhost:5173", "x-something-else")
    assert odd_header.status_code == 400


def test_the_stacks_own_routes_get_no_cors(stack: LocalStack) -> None:
    # /local/users mints tokens: no page on any origin may call it from a browser
    answer = preflight(f"{stack.url}/local/users", "http://localhost:5173")
    assert "access-control-allow-origin" not in answer.headers
