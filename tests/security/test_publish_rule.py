"""The publish rule on its own: which results of a request AppSync would hand its subscriptions."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from local.realtime.pubsub import mutation_results

ROUTES = {"publishOrderUpdate": ["onOrderUpdate"], "publishPnl": ["onPnl"]}
EVENT = {"eventId": "e1", "ownerId": "victim"}


@pytest.mark.parametrize(
    ("query", "data", "published"),
    [
        ("query { publishOrderUpdate: basket(id: 1) { id } }", {"publishOrderUpdate": EVENT}, []),
        ("subscription { publishOrderUpdate: onOrderUpdate(ownerId: 1) { id } }", {"publishOrderUpdate": EVENT}, []),
        ("mutation { publishOrderUpdate: createBasket(input: {}) { id } }", {"publishOrderUpdate": EVENT}, []),
        ("mutation { p: publishPnl(a: 1) { id } }", {"p": EVENT}, [("publishPnl", EVENT)]),
        ("mutation { publishPnl(a: 1) { id } }", {"publishPnl": EVENT}, [("publishPnl", EVENT)]),
        (
            "mutation { ...F } fragment F on Mutation { x: publishOrderUpdate(a: 1) { id } ...F }",
            {"x": EVENT},
            [("publishOrderUpdate", EVENT)],
        ),
        ("mutation { ... on Mutation { publishPnl(a: 1) { id } } }", {"publishPnl": None}, []),
    ],
    ids=["aliased query", "subscription", "aliased other mutation", "alias", "plain", "fragment", "null result"],
)
def test_only_routed_mutation_fields_publish_by_field_name(
    query: str, data: dict[str, Any], published: list[Any]
) -> None:
    assert mutation_results(ROUTES, parse(query), data) == published


def test_the_operation_run_is_the_one_named() -> None:
    document = parse("query Q { publishPnl: me { id } } mutation M { publishPnl(a: 1) { id } }")

    assert mutation_results(ROUTES, document, {"publishPnl": EVENT}, "Q") == []
    assert mutation_results(ROUTES, document, {"publishPnl": EVENT}, "M") == [("publishPnl", EVENT)]
    assert mutation_results(ROUTES, document, {"publishPnl": EVENT}, None) == []
