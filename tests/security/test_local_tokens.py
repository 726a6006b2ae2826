"""The local pool's tokens are signed with the state directory's key: moto's shipped key mints nothing."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import jwt
import pytest
import requests
from gql import Client, gql
from gql.transport.exceptions import TransportServerError
from moto.utilities.utils import load_resource

from local.cognito import SIGNING_KEY_FILE
from tests.security.test_forged_events import transport

if TYPE_CHECKING:
    from local.stack import LocalStack

pytestmark = pytest.mark.e2e

ME = "query { me { id } }"


def minted_with_motos_key(genuine: str) -> str:
    """`genuine`'s claims, signed with the private key moto publishes in its package."""
    claims = jwt.decode(genuine, options={"verify_signature": False})
    key = jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json")).key
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})


def test_a_token_signed_with_motos_shipped_key_is_refused(stack: LocalStack, alice: dict[str, str]) -> None:
    forged = minted_with_motos_key(alice["token"])

    # When Alice's claims are sent signed with moto's key, over HTTP and over the WebSocket
    reply = requests.post(f"{stack.url}/graphql", json={"query": ME}, headers={"Authorization": forged}, timeout=60)

    async def subscribe() -> None:
        async with Client(transport=transport(stack, forged)) as session:
            await session.execute(gql(ME))

    # Then both are refused as unauthorized; the genuine token works
    assert reply.status_code == 401
    assert reply.json()["errors"][0]["errorType"] == "UnauthorizedException"
    with pytest.raises(TransportServerError, match=r"UnauthorizedException.*not signed by this user pool"):
        asyncio.run(subscribe())
    genuine = requests.post(
        f"{stack.url}/graphql", json={"query": ME}, headers={"Authorization": alice["token"]}, timeout=60
    )
    assert genuine.json()["data"]["me"]["id"] == alice["sub"]
    # and the key that signs is the state directory's own
    assert (stack.state_dir / SIGNING_KEY_FILE).stat().st_mode & 0o077 == 0
