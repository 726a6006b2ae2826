"""The tests' one GraphQL client: a POST to a running stack's /graphql with a user's Cognito token."""

from __future__ import annotations

from typing import Any, Protocol

import requests


class HasUrl(Protocol):
    url: str


def graphql(stack: HasUrl, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole response body (`data` and any `errors`); GraphQL errors still come with HTTP 200, as on AppSync."""
    reply = requests.post(
        f"{stack.url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": token},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def graphql_data(stack: HasUrl, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The response's `data`, failing the test on any error."""
    body = graphql(stack, token, query, variables)
    assert "errors" not in body, body["errors"]
    return dict(body["data"])
