"""The dashboard's own client modules under node, against the local stack: the Cognito sign-in used on AWS
(here against the stack's Cognito, moto) yields tokens the API accepts; endpoint rules for AppSync."""

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

    # When the dashboard's CognitoAuth signs in over Cognito's JSON API (InitiateAuth, USER_PASSWORD_AUTH)
    out = run_node(
        {
            "cognitoUrl": stack.moto_url,
            "clientId": stack.users.client_id,
            "username": "webclient",
            "password": password,
            "graphqlUrl": f"{stack.url}/graphql",
        }
    )

    # Then its id token is the user's, accepted by the API, and refreshes with the refresh token
    assert out["kind"] == "cognito"
    assert out["session"]["sub"] == user["sub"] and out["session"]["username"] == "webclient"
    assert out["session"]["hasRefresh"] is True and out["session"]["expiresAt"] > 0
    assert out["me"] == {"id": user["sub"], "username": "webclient"}
    assert out["refreshedMe"] == {"id": user["sub"]}
    # a wrong password is Cognito's typed error, and a bad token reads as an expired session
    assert out["wrongPassword"]["errorType"] == "NotAuthorizedException"
    assert out["badToken"]["title"] == "Session expired" and out["badToken"]["unauthorized"] is True
    assert "Sign in again" in out["badToken"]["message"]
    assert out["local"] is True
    # the AppSync real-time endpoint is derived as AWS documents it; local and custom domains keep the path
    assert out["endpoints"] == [
        {
            "url": "wss://abc123.appsync-realtime-api.ap-south-1.amazonaws.com/graphql",
            "host": "abc123.appsync-api.ap-south-1.amazonaws.com",
        },
        {"url": "ws://127.0.0.1:4000/graphql", "host": "127.0.0.1:4000"},
        {"url": "wss://api.example.in/graphql/realtime", "host": "api.example.in"},
    ]
