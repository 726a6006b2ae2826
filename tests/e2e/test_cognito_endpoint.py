"""The local user pool's endpoint for front ends (`/cognito-idp`, Amplify's `userPoolEndpoint`): Cognito's JSON
API answered by the embedded Cognito, only the operations a front end calls, `GetTokensFromRefreshToken` (what
Amplify v6 refreshes with) included, and CORS for local origins only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from local.stack import LocalStack

JSON = "application/x-amz-json-1.1"


def cognito(stack: LocalStack, operation: str, body: dict[str, Any], **headers: str) -> requests.Response:
    return requests.post(
        f"{stack.url}/cognito-idp",
        json=body,
        headers={
            "Content-Type": JSON,
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
            **headers,
        },
        timeout=30,
    )


def graphql_me(stack: LocalStack, token: str) -> dict[str, Any]:
    reply = requests.post(
        f"{stack.url}/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": token}, timeout=30
    )
    return dict(reply.json())


def test_a_front_end_signs_in_refreshes_and_is_refused_admin_operations(stack: LocalStack) -> None:
    user = stack.add_user("cognito_front")
    client_id = stack.users.client_id

    # Sign in with the password /local/users handed out, as Amplify's signIn does (USER_PASSWORD_AUTH)
    signed = cognito(
        stack,
        "InitiateAuth",
        {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id}
        | {"AuthParameters": {"USERNAME": user["username"], "PASSWORD": user["password"]}},
    )
    assert signed.status_code == 200, signed.text
    tokens = signed.json()["AuthenticationResult"]
    assert graphql_me(stack, tokens["AccessToken"]) == {"data": {"me": {"id": user["sub"]}}}

    # A wrong password is Cognito's typed error, with the header Amplify reads
    wrong = cognito(
        stack,
        "InitiateAuth",
        {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id}
        | {"AuthParameters": {"USERNAME": user["username"], "PASSWORD": "Wrong-password-1"}},
    )
    assert wrong.status_code == 400
    assert "NotAuthorizedException" in wrong.headers.get("x-amzn-errortype", wrong.json().get("__type", ""))

    # GetTokensFromRefreshToken (moto has none) answers new tokens for the same user
    refreshed = cognito(
        stack, "GetTokensFromRefreshToken", {"ClientId": client_id, "RefreshToken": tokens["RefreshToken"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    fresh = refreshed.json()["AuthenticationResult"]
    assert fresh["AccessToken"] != tokens["AccessToken"]
    assert graphql_me(stack, fresh["AccessToken"]) == {"data": {"me": {"id": user["sub"]}}}

    # An admin operation (moto checks no AWS credentials) is not served to pages, and nothing is created
    refused = cognito(stack, "AdminCreateUser", {"UserPoolId": stack.users.pool_id, "Username": "intruder"})
    assert refused.status_code == 400
    assert refused.json()["__type"] == "NotAuthorizedException"
    assert "intruder" not in {
        u["Username"] for u in stack.aws.client("cognito-idp").list_users(UserPoolId=stack.users.pool_id)["Users"]
    }


def test_cors_on_the_pool_endpoint_for_local_pages_only(stack: LocalStack) -> None:
    asked = "content-type,x-amz-target,x-amz-user-agent,cache-control,amz-sdk-invocation-id,amz-sdk-request"

    def preflight(origin: str) -> requests.Response:
        return requests.options(
            f"{stack.url}/cognito-idp",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": asked,
            },
            timeout=30,
        )

    allowed = preflight("http://localhost:5173")
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "access-control-allow-origin" not in preflight("https://evil.example").headers
