"""The local AppSync's subscriptions over real WebSockets: gql's AppSync transport, unchanged, and
graphql-transport-ws (GraphiQL's protocol), against a uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import AsyncGenerator, Iterator  # noqa: TC003 -- strawberry reads annotations at runtime
from dataclasses import dataclass
from typing import Any, cast

import jwt
import pytest
import strawberry
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from gql import Client, GraphQLRequest
from gql.transport.appsync_auth import AppSyncJWTAuthentication
from gql.transport.appsync_websockets import AppSyncWebsocketsTransport
from gql.transport.exceptions import TransportQueryError, TransportServerError
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from local.auth import JwtVerifier
from local.realtime.authorizer import Refusal
from local.realtime.endpoint import realtime_routes
from local.realtime.pubsub import PubSub, publish_mutation_result, routes_from_schema
from local.realtime.shaping import OperationError, prepare_subscription
from schema.aws import AwsSubscribe

ISSUER = "https://cognito-idp.ap-south-1.amazonaws.com/ap-south-1_realtime"
CLIENT_ID = "realtime-client"
KID = "realtime-key"
SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
FOREIGN_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@strawberry.type
class PositionPnl:
    symbol: str
    quantity: int
    pnl: str


@strawberry.type
class PnlUpdate:
    event_id: strawberry.ID
    owner_id: strawberry.ID
    basket_id: strawberry.ID
    pnl: str
    positions: list[PositionPnl]


@strawberry.type
class Query:
    ping: str = "pong"


@strawberry.type
class Mutation:
    @strawberry.mutation
    def publish_pnl(self, event_id: strawberry.ID, owner_id: strawberry.ID, basket_id: strawberry.ID) -> PnlUpdate:
        return PnlUpdate(event_id=event_id, owner_id=owner_id, basket_id=basket_id, pnl="0.00", positions=[])


@strawberry.type
class Subscription:
    @strawberry.subscription(directives=[AwsSubscribe(mutations=["publishPnl"])])  # type: ignore[untyped-decorator]
    async def on_pnl(
        self, owner_id: strawberry.ID, basket_id: strawberry.ID | None = None
    ) -> AsyncGenerator[PnlUpdate | None, None]:
        yield None


SCHEMA = strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription)


def a_token(sub: str, key: rsa.RSAPrivateKey = SIGNING_KEY) -> str:
    now = int(time.time())
    claims = {
        "sub": sub,
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "cognito:username": sub,
        "iat": now,
        "exp": now + 3600,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})


def a_pnl_update(owner: str, event: str, basket: str = "b1") -> dict[str, Any]:
    """What the publish mutation returns: every field (AppSync forwards only what subscribers select)."""
    return {
        "eventId": event,
        "ownerId": owner,
        "basketId": basket,
        "pnl": "12.50",
        "positions": [{"symbol": "NIFTY", "quantity": 75, "pnl": "12.50"}],
    }


def owner_only(field_name: str, arguments: dict[str, Any], identity: dict[str, Any]) -> str | Refusal | None:
    """As the resolver Lambda's Subscription resolver: only your own ownerId, and no basket `missing`."""
    if arguments.get("ownerId") != identity["sub"]:
        return "you can subscribe only to your own events: pass ownerId = me.id"
    if arguments.get("basketId") == "missing":
        return Refusal("no such basket", "NotFound")
    return None


@dataclass
class Server:
    port: int
    pubsub: PubSub

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def wait_for_subscribers(self, count: int, field: str = "onPnl") -> None:
        deadline = time.monotonic() + 5
        while self.pubsub.subscriber_count(field) != count:
            assert time.monotonic() < deadline, f"expected {count} subscribers"
            await asyncio.sleep(0.01)

    async def publish(self, payload: dict[str, Any]) -> bool:
        """Publish as the stream poller does: from a thread that is not the server's loop."""
        return await asyncio.to_thread(self.pubsub.publish, "publishPnl", payload, payload["eventId"])


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    public = jwt.algorithms.RSAAlgorithm.to_jwk(SIGNING_KEY.public_key(), as_dict=True)
    verifier = JwtVerifier(
        jwks={"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}, issuer=ISSUER, client_ids={CLIENT_ID}
    )
    pubsub = PubSub(routes_from_schema(SCHEMA))
    app = Starlette(routes=realtime_routes(SCHEMA, pubsub, verifier, owner_only, keepalive_seconds=0.2))
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = uvicorn_server.servers[0].sockets[0].getsockname()[1]
    yield Server(port=port, pubsub=pubsub)
    uvicorn_server.should_exit = True
    thread.join(timeout=10)


def appsync_transport(server: Server, token: str) -> AppSyncWebsocketsTransport:
    # gql keeps the URL's path (on AWS it only swaps appsync-api for appsync-realtime-api); websockets
    # needs a ws:// scheme, which gql derives only from https://.
    return AppSyncWebsocketsTransport(
        url=f"{server.ws}/graphql", auth=AppSyncJWTAuthentication(host=f"127.0.0.1:{server.port}", jwt=token)
    )


ON_PNL = (
    "subscription OnPnl($owner: ID!, $basket: ID) "
    "{ onPnl(ownerId: $owner, basketId: $basket) { pnl positions { symbol } } }"
)


def test_gql_appsync_client_receives_its_updates_shaped_to_its_selection(server: Server) -> None:
    async def scenario() -> None:
        # Given u1 subscribed through gql's AppSync transport
        async with Client(transport=appsync_transport(server, a_token("u1"))) as session:
            updates = session.subscribe(GraphQLRequest(ON_PNL, variable_values={"owner": "u1"}))
            first = asyncio.create_task(updates.__anext__())
            await server.wait_for_subscribers(1)

            # When another user's update and then u1's are published
            assert await server.publish(a_pnl_update("u2", "gql-e1"))
            assert await server.publish(a_pnl_update("u1", "gql-e2"))

            # Then u1 gets only its own, with only the selected fields
            assert await asyncio.wait_for(first, 5) == {"onPnl": {"pnl": "12.50", "positions": [{"symbol": "NIFTY"}]}}
            await updates.aclose()  # sends stop; the server completes and unsubscribes
            await server.wait_for_subscribers(0)

    asyncio.run(scenario())


def test_gql_subscription_for_another_owner_is_refused(server: Server) -> None:
    async def scenario() -> None:
        async with Client(transport=appsync_transport(server, a_token("u1"))) as session:
            with pytest.raises(TransportQueryError) as refused:
                async for _ in session.subscribe(GraphQLRequest(ON_PNL, variable_values={"owner": "u2"})):
                    pass

        errors = refused.value.errors
        assert errors is not None
        assert errors[0]["errors"][0]["errorType"] == "Unauthorized"
        assert "your own events" in errors[0]["errors"][0]["message"]
        assert server.pubsub.subscriber_count() == 0

    asyncio.run(scenario())


def test_gql_connection_with_a_bad_token_is_refused(server: Server) -> None:
    async def scenario() -> None:
        with pytest.raises(TransportServerError, match="UnauthorizedException"):
            async with Client(transport=appsync_transport(server, a_token("u1", FOREIGN_KEY))):
                pass

    asyncio.run(scenario())


def appsync_url(server: Server, token: str, path: str = "/graphql") -> str:
    header = base64.b64encode(json.dumps({"host": f"127.0.0.1:{server.port}", "Authorization": token}).encode())
    return f"{server.ws}{path}?header={header.decode()}&payload=e30="


async def receive(ws: ClientConnection, skip: tuple[str, ...] = ("ka",)) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if message.get("type") not in skip:
            return message


def test_appsync_protocol_message_by_message(server: Server) -> None:
    async def scenario() -> None:
        token = a_token("u5")
        async with connect(
            appsync_url(server, token, "/graphql/realtime"), subprotocols=[Subprotocol("graphql-ws")]
        ) as ws:
            # Given an acknowledged connection that receives keep-alives
            await ws.send(json.dumps({"type": "connection_init"}))
            assert await receive(ws) == {"type": "connection_ack", "payload": {"connectionTimeoutMs": 300000}}
            assert await receive(ws, skip=()) == {"type": "ka"}
            assert await receive(ws, skip=()) == {"type": "ka"}

            def start(op: str, query: str, variables: dict[str, Any] | None = None) -> str:
                data = json.dumps({"query": query, "variables": variables or {}})
                auth = {"host": f"127.0.0.1:{server.port}", "Authorization": token}
                payload = {"data": data, "extensions": {"authorization": auth}}
                return json.dumps({"type": "start", "id": op, "payload": payload})

            # When a query is started instead of a subscription, it is refused as invalid
            await ws.send(start("q", "{ ping }"))
            error = await receive(ws)
            assert error["type"] == "error"
            assert error["id"] == "q"
            assert error["payload"]["errors"][0]["errorType"] == "ValidationError"

            # When a basket the resolver does not know is asked for, its errorType comes through
            await ws.send(start("nf", ON_PNL, {"owner": "u5", "basket": "missing"}))
            assert (await receive(ws))["payload"]["errors"] == [{"errorType": "NotFound", "message": "no such basket"}]

            # When a subscription for one basket starts, then updates are published
            await ws.send(start("s1", ON_PNL, {"owner": "u5", "basket": "b2"}))
            assert await receive(ws) == {"type": "start_ack", "id": "s1"}
            assert await server.publish(a_pnl_update("u5", "raw-e1", basket="b1"))
            assert await server.publish(a_pnl_update("u5", "raw-e2", basket="b2"))
            assert not await server.publish(a_pnl_update("u5", "raw-e2", basket="b2"))  # a retry

            # Then only that basket's update arrives, once, as AppSync's data message
            assert await receive(ws) == {
                "type": "data",
                "id": "s1",
                "payload": {"data": {"onPnl": {"pnl": "12.50", "positions": [{"symbol": "NIFTY"}]}}},
            }

            # And stop completes it and unsubscribes
            await ws.send(json.dumps({"type": "stop", "id": "s1"}))
            assert await receive(ws) == {"type": "complete", "id": "s1"}
            await server.wait_for_subscribers(0)

    asyncio.run(scenario())


def test_appsync_connection_without_a_header_gets_connection_error(server: Server) -> None:
    async def scenario() -> None:
        async with connect(f"{server.ws}/graphql", subprotocols=[Subprotocol("graphql-ws")]) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            error = await receive(ws)
            assert error["type"] == "connection_error"
            assert error["payload"]["errors"][0]["errorType"] == "UnauthorizedException"
            assert "Missing Authorization" in error["payload"]["errors"][0]["message"]

    asyncio.run(scenario())


def header_subprotocol(server: Server, authorization: str) -> Subprotocol:
    """The auth header as Amplify v6 and aws-appsync-subscription-link send it: base64url, no padding."""
    header = json.dumps({"Authorization": authorization, "host": f"127.0.0.1:{server.port}"}).encode()
    return Subprotocol("header-" + base64.urlsafe_b64encode(header).decode().rstrip("="))


def test_appsync_handshake_in_the_header_subprotocol_as_the_js_clients_send_it(server: Server) -> None:
    async def scenario() -> None:
        token = a_token("u6")
        offered = [Subprotocol("graphql-ws"), header_subprotocol(server, token)]
        async with connect(f"{server.ws}/graphql/realtime", subprotocols=offered) as ws:
            # Given a connection whose only auth is the header- subprotocol: graphql-ws is the one chosen
            assert ws.subprotocol == "graphql-ws"
            await ws.send(json.dumps({"type": "connection_init"}))
            assert await receive(ws) == {"type": "connection_ack", "payload": {"connectionTimeoutMs": 300000}}

            def start(op: str, owner: str) -> str:
                data = json.dumps({"query": ON_PNL, "variables": {"owner": owner}})
                auth = {"host": f"127.0.0.1:{server.port}", "Authorization": token}
                return json.dumps(
                    {"type": "start", "id": op, "payload": {"data": data, "extensions": {"authorization": auth}}}
                )

            # When a subscription starts, then one for another owner is refused, then an unknown message arrives
            await ws.send(start("mine", "u6"))
            assert await receive(ws) == {"type": "start_ack", "id": "mine"}
            await ws.send(start("theirs", "u1"))
            refused = await receive(ws)
            await ws.send(json.dumps({"type": "subscribe_everything", "id": "x"}))
            unknown = await receive(ws)

            # Then the refusal is an error for that id only, with the resolver's errorType
            assert refused == {
                "type": "error",
                "id": "theirs",
                "payload": {
                    "errors": [
                        {
                            "errorType": "Unauthorized",
                            "message": "you can subscribe only to your own events: pass ownerId = me.id",
                        }
                    ]
                },
            }
            # and the unknown message an id-less UnsupportedOperation error, as AppSync answers it
            assert unknown == {
                "type": "error",
                "payload": {
                    "errors": [{"errorType": "UnsupportedOperation", "message": "subscribe_everything not supported"}]
                },
            }
            # and the connection and its first subscription carry on
            assert await server.publish(a_pnl_update("u6", "hdr-e1"))
            data = await receive(ws)
            assert (data["type"], data["id"], data["payload"]["data"]["onPnl"]["pnl"]) == ("data", "mine", "12.50")
            await ws.send(json.dumps({"type": "stop", "id": "mine"}))
            assert await receive(ws) == {"type": "complete", "id": "mine"}

    asyncio.run(scenario())


def test_appsync_bad_token_in_the_header_subprotocol_is_a_401_connection_error_then_close(server: Server) -> None:
    async def scenario() -> None:
        offered = [Subprotocol("graphql-ws"), header_subprotocol(server, a_token("u7", FOREIGN_KEY))]
        async with connect(f"{server.ws}/graphql/realtime", subprotocols=offered) as ws:
            assert ws.subprotocol == "graphql-ws"
            await ws.send(json.dumps({"type": "connection_init"}))
            error = await receive(ws)
            # Amplify and the subscription link read errorCode 401 as "do not retry"
            assert error["type"] == "connection_error"
            [detail] = error["payload"]["errors"]
            assert (detail["errorType"], detail["errorCode"]) == ("UnauthorizedException", 401)
            with pytest.raises(ConnectionClosed):
                await receive(ws)

    asyncio.run(scenario())


def test_graphql_transport_ws_round_trip(server: Server) -> None:
    async def scenario() -> None:
        async with connect(f"{server.ws}/graphql/ws", subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            # Given a connection initialised with GraphiQL's headers
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": a_token("u3")}}))
            assert await receive(ws) == {"type": "connection_ack"}
            await ws.send(json.dumps({"type": "ping"}))
            assert await receive(ws) == {"type": "pong"}

            # When a subscription with an alias and a fragment starts and updates are published
            query = (
                'subscription { live: onPnl(ownerId: "u3", basketId: "b1") { ...Money positions { qty: quantity } } }'
                " fragment Money on PnlUpdate { pnl __typename }"
            )
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
            await server.wait_for_subscribers(1)
            assert await server.publish(a_pnl_update("u3", "tws-e1", basket="b2"))
            assert await server.publish(a_pnl_update("u3", "tws-e2", basket="b1"))

            # Then the matching one arrives as `next`, shaped to the selection
            assert await receive(ws) == {
                "type": "next",
                "id": "1",
                "payload": {"data": {"live": {"pnl": "12.50", "__typename": "PnlUpdate", "positions": [{"qty": 75}]}}},
            }

            # And a refused subscription is an `error`, and `complete` unsubscribes
            await ws.send(
                json.dumps(
                    {
                        "id": "2",
                        "type": "subscribe",
                        "payload": {"query": 'subscription { onPnl(ownerId: "u1") { pnl } }'},
                    }
                )
            )
            refused = await receive(ws)
            assert refused["type"] == "error"
            assert refused["id"] == "2"
            assert refused["payload"][0]["errorType"] == "Unauthorized"
            await ws.send(json.dumps({"id": "1", "type": "complete"}))
            await server.wait_for_subscribers(0)

    asyncio.run(scenario())


def test_graphql_transport_ws_on_the_graphql_path_with_a_bad_token_is_closed_forbidden(server: Server) -> None:
    async def scenario() -> None:
        async with connect(f"{server.ws}/graphql", subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer nonsense"}}))
            with pytest.raises(ConnectionClosed) as closed:
                await receive(ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4403
        assert "Malformed token" in closed.value.rcvd.reason

    asyncio.run(scenario())


def test_a_websocket_without_a_known_subprotocol_is_refused(server: Server) -> None:
    async def scenario() -> None:
        with pytest.raises(InvalidStatus):
            async with connect(f"{server.ws}/graphql"):
                pass

    asyncio.run(scenario())


def test_publish_mutation_result_routes_by_field_and_alias() -> None:
    async def scenario() -> None:
        pubsub = PubSub(routes_from_schema(SCHEMA))
        subscription = pubsub.subscribe("onPnl", {"ownerId": "u1"})
        data = {"p": a_pnl_update("u1", "m-e1"), "other": {"ownerId": "u1"}, "nothing": None}

        delivered = await asyncio.to_thread(
            publish_mutation_result,
            pubsub,
            data,
            'mutation { p: publishPnl(eventId: "m-e1", ownerId: "u1", basketId: "b1") { eventId } }',
        )

        assert delivered == 1
        assert (await asyncio.wait_for(subscription.__anext__(), 1))["eventId"] == "m-e1"
        assert (
            publish_mutation_result(
                pubsub, data, 'mutation { p: publishPnl(eventId: "x", ownerId: "u1", basketId: "b1") { eventId } }'
            )
            == 0
        )

    asyncio.run(scenario())


def test_selection_shaping_fills_unpublished_fields_with_null_and_honours_skip() -> None:
    prepared = prepare_subscription(
        SCHEMA,
        'subscription S($full: Boolean!) { onPnl(ownerId: "u1") '
        "{ eventId pnl @skip(if: $full) positions @include(if: $full) { symbol } } }",
        {"full": False},
    )

    assert prepared.field_name == "onPnl"
    assert prepared.arguments == {"ownerId": "u1", "basketId": None}
    assert prepared.result({"pnl": "1.00", "positions": []}) == {"onPnl": {"eventId": None, "pnl": "1.00"}}
    assert prepared.result(None) == {"onPnl": None}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ ping }", "only subscriptions"),
        ("subscription { onPnl { pnl } }", "ownerId"),
        (
            'subscription A { onPnl(ownerId: "u") { pnl } } subscription B { onPnl(ownerId: "u") { pnl } }',
            "exactly one",
        ),
        ("subscription {", "Syntax Error"),
    ],
)
def test_invalid_subscriptions_are_validation_errors(query: str, message: str) -> None:
    with pytest.raises(OperationError, match=message) as refused:
        prepare_subscription(SCHEMA, query)
    assert refused.value.error_type == "ValidationError"


def test_lambda_authorizer_runs_the_resolver_lambdas_subscription_resolver() -> None:
    # Given the production resolver Lambda, invoked in-process as the local stack does
    from local.lambda_context import LambdaContext
    from local.realtime.authorizer import lambda_authorizer
    from resolvers.handler import handler

    authorize = lambda_authorizer(lambda event: handler(event, cast("Any", LambdaContext())))
    identity: dict[str, Any] = {
        "sub": "u1",
        "username": "u1",
        "claims": {"token_use": "id"},
        "sourceIp": [],
        "groups": None,
    }

    # When u1 subscribes to its own and to another user's events
    own = authorize("onPnl", {"ownerId": "u1", "basketId": None}, identity)
    foreign = authorize("onPnl", {"ownerId": "u2", "basketId": None}, identity)

    # Then only its own starts, and the refusal carries the resolver's errorType
    assert own is None
    assert isinstance(foreign, Refusal)
    assert foreign.error_type == "Unauthorized"


def test_subscribers_asking_alike_share_one_rendering_of_a_published_payload() -> None:
    # Given three subscribers of one owner: two with the same operation, one selecting less
    from local.realtime.pubsub import Published

    same = "subscription($o: ID!) { onPnl(ownerId: $o) { eventId pnl positions { symbol pnl } } }"
    first = prepare_subscription(SCHEMA, same, {"o": "u1"})
    second = prepare_subscription(SCHEMA, same, {"o": "u1"})
    brief = prepare_subscription(SCHEMA, 'subscription { onPnl(ownerId: "u1") { pnl } }')
    payload = Published(
        {
            "eventId": "e1",
            "ownerId": "u1",
            "basketId": "b1",
            "pnl": "12.50",
            "positions": [{"symbol": "NIFTY", "quantity": 65, "pnl": "12.50"}],
        }
    )
    payload.rendered = {}

    # When each renders the published payload
    texts = [first.render(payload), second.render(payload), brief.render(payload)]

    # Then each gets exactly its own selection, and the alike pair shared one rendering
    assert json.loads(texts[0]) == {
        "onPnl": {"eventId": "e1", "pnl": "12.50", "positions": [{"symbol": "NIFTY", "pnl": "12.50"}]}
    }
    assert texts[1] is texts[0]
    assert json.loads(texts[2]) == {"onPnl": {"pnl": "12.50"}}
    assert len(payload.rendered) == 2
    # A plain dict (no shared cache) renders the same result
    assert first.render(dict(payload)) == texts[0]
