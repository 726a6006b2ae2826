"""basketgraph from Python with gql: a query, a mutation, and a live onPnl subscription over AppSync's
real-time protocol. The same script runs against the local stack and a deployed AppSync API.

Local stack (`make dev` in another terminal):

    .venv/bin/python examples/live_pnl.py

AppSync (a Cognito id token of your user):

    .venv/bin/python examples/live_pnl.py --token "$TOKEN" \\
        --url https://XXXX.appsync-api.ap-south-1.amazonaws.com/graphql

It signs in (locally: as the demo user), creates a NIFTY iron condor, subscribes to its P&L, executes it,
prints P&L updates as prices move, and exits the basket (unless --keep).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gql import Client, gql
from gql.transport.appsync_auth import AppSyncJWTAuthentication
from gql.transport.appsync_websockets import AppSyncWebsocketsTransport
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.requests import RequestsHTTPTransport

DEMO_BASKETS = Path(__file__).resolve().parent.parent / "local" / "demo_baskets.json"
ME = gql("query Me { me { id username } }")
CREATE = gql(
    """mutation CreateBasket($input: CreateBasketInput!) {
  createBasket(input: $input) { id name status strategies { name legs { tradingsymbol side lots } } }
}"""
)
EXECUTE = gql(
    """mutation ExecuteBasket($id: ID!, $rid: String!) {
  executeBasket(basketId: $id, clientRequestId: $rid) { basket { status statusMessage } orders { status } }
}"""
)
EXIT = gql(
    """mutation ExitBasket($id: ID!, $rid: String!) {
  exitBasket(basketId: $id, clientRequestId: $rid) { basket { status } orders { status } }
}"""
)
ON_PNL = gql(
    """subscription OnPnl($ownerId: ID!, $basketId: ID) {
  onPnl(ownerId: $ownerId, basketId: $basketId) { basketId pnl realised unrealised asOf }
}"""
)


def condor(name: str = "NIFTY iron condor") -> dict[str, Any]:
    """The demo iron condor of local/demo_baskets.json (the dashboard's and GraphiQL's too)."""
    baskets = json.loads(DEMO_BASKETS.read_text())["baskets"]
    basket: dict[str, Any] = next(b["input"] for b in baskets if b["id"] == "nifty-iron-condor")
    return {**basket, "name": name}


def local_token(url: str, username: str) -> str:
    """A token from the local stack's user endpoint (only the local stack has one; on AWS pass --token)."""
    parts = urlsplit(url)
    users = urlunsplit((parts.scheme, parts.netloc, "/local/users", "", ""))
    request = urllib.request.Request(  # noqa: S310 -- the local stack's own URL, http(s) only
        users, data=json.dumps({"username": username}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
        return str(json.load(reply)["token"])


def realtime_url(url: str) -> str:
    """gql's AppSync transport turns https://…appsync-api… into wss://…appsync-realtime-api… itself;
    the local stack answers on the same path over plain ws://."""
    parts = urlsplit(url)
    return urlunsplit(("ws", parts.netloc, parts.path, "", "")) if parts.scheme == "http" else url


def describe(error: TransportQueryError) -> str:
    first = (error.errors or [{}])[0]
    return f"{first.get('errorType', 'Error')}: {first.get('message', str(error))}"


async def run(url: str, token: str, events: int, keep: bool, timeout: float) -> int:
    http = Client(transport=RequestsHTTPTransport(url=url, headers={"Authorization": token}, timeout=30))

    def call(document: Any, **variables: Any) -> dict[str, Any]:
        return dict(http.execute(document, variable_values=variables))

    me = (await asyncio.to_thread(call, ME))["me"]
    print(f"signed in as {me['username']} (id {me['id']})")
    basket = (await asyncio.to_thread(call, CREATE, input=condor()))["createBasket"]
    legs = sum(len(strategy["legs"]) for strategy in basket["strategies"])
    print(f"created basket {basket['id']}: {basket['name']}, {legs} legs, {basket['status']}")

    host = urlsplit(url).netloc
    transport = AppSyncWebsocketsTransport(url=realtime_url(url), auth=AppSyncJWTAuthentication(host=host, jwt=token))
    received = 0
    async with Client(transport=transport) as live:
        updates = live.subscribe(ON_PNL, variable_values={"ownerId": me["id"], "basketId": basket["id"]})
        first = asyncio.ensure_future(anext(updates))
        await asyncio.sleep(0.5)  # the subscription is started before anything can move
        execution = (await asyncio.to_thread(call, EXECUTE, id=basket["id"], rid=str(uuid.uuid4())))["executeBasket"]
        statuses = ", ".join(order["status"] for order in execution["orders"])
        print(f"executed: basket {execution['basket']['status']}, {len(execution['orders'])} orders ({statuses})")
        try:
            event = await asyncio.wait_for(asyncio.shield(first), timeout)
            while True:
                pnl = event["onPnl"]
                received += 1
                print(f"pnl {pnl['pnl']} (realised {pnl['realised']}, unrealised {pnl['unrealised']}) at {pnl['asOf']}")
                if received >= events:
                    break
                event = await asyncio.wait_for(anext(updates), timeout)
        except TimeoutError:
            print(f"no P&L update for {timeout:.0f}s (is the market moving?)", file=sys.stderr)
        finally:
            first.cancel()
            await updates.aclose()
    if not keep:
        exited = (await asyncio.to_thread(call, EXIT, id=basket["id"], rid=str(uuid.uuid4())))["exitBasket"]
        print(f"exit requested: basket {exited['basket']['status']}, {len(exited['orders'])} exit orders")
    return 0 if received >= events else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("BASKETGRAPH_URL", "http://127.0.0.1:4000/graphql"))
    parser.add_argument("--token", default=os.environ.get("BASKETGRAPH_TOKEN"), help="Cognito id token")
    parser.add_argument("--user", default="demo", help="local stack only: sign in as this user (default demo)")
    parser.add_argument("--events", type=int, default=5, help="P&L updates to print before stopping")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each P&L update")
    parser.add_argument("--keep", action="store_true", help="leave the basket LIVE instead of exiting it")
    args = parser.parse_args(argv)
    token = args.token or local_token(args.url, args.user)
    try:
        return asyncio.run(run(args.url, token, args.events, args.keep, args.timeout))
    except TransportQueryError as error:
        print(f"the API refused: {describe(error)}", file=sys.stderr)
        return 2
    except (TransportError, OSError) as error:
        print(f"could not talk to {args.url}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
