"""Live updates carry only what AppSync would deliver: the results of IAM-called publish mutations."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from gql import Client, gql
from gql.transport.appsync_auth import AppSyncJWTAuthentication
from gql.transport.appsync_websockets import AppSyncWebsocketsTransport

from schema import shapes
from subscriptions.selection import publish_document
from tests.builders import an_order
from tests.graphql_client import graphql, graphql_data
from tests.helpers import condor_input, wait_until
from trading.ids import OwnerId

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

ON_ORDER = "subscription($o: ID!) { onOrderUpdate(ownerId: $o) { eventId ownerId basketId order { id status } } }"


def transport(stack: LocalStack, token: str) -> AppSyncWebsocketsTransport:
    host = stack.url.split("//", 1)[1]
    return AppSyncWebsocketsTransport(
        url=f"ws://{host}/graphql", auth=AppSyncJWTAuthentication(host=host, jwt=token), keep_alive_timeout=60
    )


def forgeries(basket_id: str, victim: str) -> list[tuple[str, dict[str, Any]]]:
    """Requests a signed-in user can send whose response keys look like a publish to `victim`."""
    fields = "ownerId: name eventId: id basketId: id order: strategies { id status: name }"
    return [
        # a query whose root field is aliased as the publish mutation
        (f"query($b: ID!) {{ publishOrderUpdate: basket(id: $b) {{ {fields} }} }}", {"b": basket_id}),
        # the same through a fragment, with an operation name
        (
            f"query Q($b: ID!) {{ ...F }} fragment F on Query {{ publishOrderUpdate: basket(id: $b) {{ {fields} }} }}",
            {"b": basket_id},
        ),
        # a user-pool mutation aliased as the publish mutation
        (
            f"mutation($i: CreateBasketInput!) {{ publishOrderUpdate: createBasket(input: $i) {{ {fields} }} }}",
            {"i": {**condor_input(), "name": victim}},
        ),
        # the publish mutation itself, called with a user pool token
        (
            "mutation($e: ID!, $o: ID!, $b: ID!, $p: AWSJSON!) "
            "{ publishOrderUpdate(eventId: $e, ownerId: $o, basketId: $b, payload: $p) { eventId ownerId } }",
            {
                "e": f"forged-{uuid.uuid4()}",
                "o": victim,
                "b": basket_id,
                "p": json.dumps({"order": {"id": "HACKED", "status": "REJECTED"}}),
            },
        ),
    ]


def test_no_request_of_a_user_reaches_another_users_subscription(stack: LocalStack, bob: dict[str, str]) -> None:
    # A victim of this test's own: the session's alice has real events of her own still arriving from earlier tests
    alice = stack.add_user(f"victim{uuid.uuid4().hex[:8]}")
    received: list[dict[str, Any]] = []
    genuine = f"genuine-{uuid.uuid4()}"

    async def scenario() -> None:
        async with Client(transport=transport(stack, alice["token"])) as session:
            request = gql(ON_ORDER)
            request.variable_values = {"o": alice["sub"]}

            async def listen() -> None:
                async for result in session.subscribe(request):
                    received.append(result)

            task = asyncio.create_task(listen())
            await asyncio.to_thread(wait_until, lambda: stack.pubsub.subscriber_count("onOrderUpdate") >= 1)
            # Given Bob's basket named after Alice's id
            basket = await asyncio.to_thread(
                graphql_data,
                stack,
                bob["token"],
                "mutation($i: CreateBasketInput!) { createBasket(input: $i) { id } }",
                {"i": {**condor_input(), "name": alice["sub"]}},
            )
            # When Bob sends every forgery
            answers = [
                await asyncio.to_thread(graphql, stack, bob["token"], query, variables)
                for query, variables in forgeries(basket["createBasket"]["id"], alice["sub"])
            ]
            # the last one, the publish mutation with a user token, is refused
            assert answers[-1]["errors"][0]["errorType"] == "Unauthorized"
            # and then the stream handler's role publishes one genuine event to Alice
            published = await asyncio.to_thread(
                stack.endpoint.execute_as_iam,
                publish_document("publishOrderUpdate", "OrderEvent"),
                {
                    "eventId": genuine,
                    "ownerId": alice["sub"],
                    "basketId": "b-genuine",
                    "payload": json.dumps({"order": shapes.order(an_order(owner=OwnerId(alice["sub"])))}),
                },
            )
            assert "errors" not in published, published
            await asyncio.to_thread(wait_until, lambda: len(received) >= 1, 60)
            task.cancel()

    asyncio.run(scenario())

    # Then Alice heard the genuine event only (deliveries are in order: a forgery would have come first)
    assert [r["onOrderUpdate"]["eventId"] for r in received] == [genuine]
