"""The local user pool's endpoint for front ends: what Amplify's `userPoolEndpoint` points at.

Cognito's JSON API (`POST` with `X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>`) served at
`/cognito-idp` on the stack's own origin (so `--tls` covers it too) and answered by the embedded Cognito (moto).
Only the operations a front end calls with its own tokens pass; moto checks no AWS credentials, so the admin
operations stay with the stack. moto does not implement `GetTokensFromRefreshToken`, which Amplify v6 refreshes
with; it is answered as Cognito answers it, through `InitiateAuth` with `REFRESH_TOKEN_AUTH`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import anyio.to_thread
import requests
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from starlette.requests import Request

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
PUBLIC_OPERATIONS = frozenset(
    {
        "InitiateAuth",
        "RespondToAuthChallenge",
        "GetTokensFromRefreshToken",
        "GetUser",
        "GetUserAttributeVerificationCode",
        "UpdateUserAttributes",
        "ChangePassword",
        "GlobalSignOut",
        "RevokeToken",
        "SignUp",
        "ConfirmSignUp",
        "ForgotPassword",
        "ConfirmForgotPassword",
        "ListDevices",
        "ForgetDevice",
    }
)
"""The unauthenticated or token-authenticated operations of Cognito's user pool API (no AWS credentials)."""
JSON_TYPE = "application/x-amz-json-1.1"
COGNITO_CORS_HEADERS = (
    "content-type",
    "x-amz-target",
    "x-amz-user-agent",
    "cache-control",
    "authorization",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
)
"""What Amplify's Cognito client sends (its retry middleware adds the amz-sdk-* headers)."""
COGNITO_EXPOSED_HEADERS = ("x-amzn-RequestId", "x-amzn-ErrorType", "x-amzn-ErrorMessage")


def cognito_routes(moto_url: str, path: str = "/cognito-idp") -> list[Route]:
    """`POST <path>` forwarding the user pool API to the embedded Cognito at `moto_url`."""
    session = requests.Session()

    def forward(operation: str, body: bytes) -> requests.Response:
        return session.post(
            moto_url,
            data=body,
            headers={"Content-Type": JSON_TYPE, "X-Amz-Target": f"{TARGET_PREFIX}{operation}"},
            timeout=30,
        )

    def call(operation: str, body: bytes) -> requests.Response:
        if operation != "GetTokensFromRefreshToken":
            return forward(operation, body)
        request = json.loads(body or b"{}")
        parameters = {"REFRESH_TOKEN": request.get("RefreshToken", "")}
        if request.get("ClientSecret"):
            parameters["SECRET_HASH"] = request["ClientSecret"]
        refreshed = {"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": request.get("ClientId", "")}
        refreshed["AuthParameters"] = parameters
        return forward("InitiateAuth", json.dumps(refreshed).encode())

    async def endpoint(request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        operation = target.removeprefix(TARGET_PREFIX)
        if not target.startswith(TARGET_PREFIX) or operation not in PUBLIC_OPERATIONS:
            return JSONResponse(
                {"__type": "NotAuthorizedException", "message": f"{operation or 'this operation'} is not served here"},
                status_code=400,
                media_type=JSON_TYPE,
                headers={"x-amzn-ErrorType": "NotAuthorizedException"},
            )
        body = await request.body()
        reply = await anyio.to_thread.run_sync(call, operation, body)
        headers = {k: v for k, v in reply.headers.items() if k.lower().startswith("x-amzn-")}
        return Response(reply.content, status_code=reply.status_code, media_type=JSON_TYPE, headers=headers)

    return [Route(path, endpoint, methods=["POST"]), Route(f"{path}/", endpoint, methods=["POST"])]
