"""The dashboard's own client modules under node, against the local stack: Amplify v6's Cognito sign-in, as on
AWS but with `userPoolEndpoint` at the stack's Cognito (moto), yields tokens the API accepts through Amplify's
GraphQL client; the real-time endpoint rules Amplify follows."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from local.stack import LocalStack

SCRIPT = Path(__file__).with_name("web_client.mjs")


def run_node(payload: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(  # noqa: S603 -- our own script, loopback URLs
        [node, str(SCRIPT)], input=json.dumps(payload), capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output: dict[str, Any] = json.loads(result.stdout)
    return output


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_cognito_sign_in_gives_a_token_the_api_accepts_and_errors_read_well(stack: LocalStack) -> None:
    # Given a user of the stack's Cognito user pool with a password
    user = stack.add_user("webclient")
    password = json.loads((stack.state_dir / "users.json").read_text())["webclient"]["password"]
    assert user["password"] == password

    # When the dashboard's sign-in (Amplify's signIn, USER_PASSWORD_AUTH) signs in at the stack's pool endpoint
    out = run_node(
        {
            "cognitoUrl": f"{stack.url}/cognito-idp",
            "userPoolId": stack.users.pool_id,
            "clientId": stack.users.client_id,
            "username": "webclient",
            "password": password,
            "graphqlUrl": f"{stack.url}/graphql",
        }
    )

    # Then its access token is the user's, accepted by the API, and Amplify refreshes it with the refresh token
    assert out["kind"] == "cognito" and out["needsPassword"] is True
    assert out["session"]["sub"] == user["sub"] and out["session"]["username"] == "webclient"
    assert out["session"]["expiresAt"] > 0
    assert out["me"] == {"id": user["sub"], "username": "webclient"}
    assert out["refreshedChanged"] is True
    assert out["refreshedMe"] == {"id": user["sub"]}
    # a wrong password is Cognito's typed error, and a bad token reads as an expired session
    assert out["wrongPassword"]["errorType"] == "NotAuthorizedException"
    assert out["badToken"]["title"] == "Session expired" and out["badToken"]["unauthorized"] is True
    assert "Sign in again" in out["badToken"]["message"]
    assert out["local"] == "local"
    # the real-time endpoint as Amplify derives it: AppSync's realtime host, else the endpoint + /realtime
    # (ws:// only for a plain-http local stack, which the page lets Amplify open without TLS)
    assert out["endpoints"] == [
        {
            "url": "wss://abcdefghijklmnopqrstuvwxyz.appsync-realtime-api.ap-south-1.amazonaws.com/graphql",
            "host": "abcdefghijklmnopqrstuvwxyz.appsync-api.ap-south-1.amazonaws.com",
        },
        {"url": "ws://127.0.0.1:4000/graphql/realtime", "host": "127.0.0.1:4000"},
        {"url": "wss://api.example.in/graphql/realtime", "host": "api.example.in"},
    ]
