"""The local AppSync's IAM callers: SigV4 as gql's AppSyncIAMAuthentication signs it, verified as AppSync does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from gql.transport.appsync_auth import AppSyncIAMAuthentication

from local.auth import IamVerifier, is_sigv4, local_role_credentials
from trading.errors import Unauthorized

HOST = "127.0.0.1:4000"
REGION = "ap-south-1"
BODY = (
    '{"query": "mutation($e: ID!, $o: ID!, $b: ID!, $p: AWSJSON!) '
    '{ publishFill(eventId: $e, ownerId: $o, basketId: $b, payload: $p) { eventId } }", '
    '"variables": {"e": "fill:1", "o": "owner", "b": "basket", "p": "{}"}}'
)


def signed(credentials: Credentials, body: str = BODY, host: str = HOST, region: str = REGION) -> dict[str, str]:
    """The headers the stream Lambda's publisher sends (lower-cased, with the Host that requests adds)."""
    headers: dict[str, Any] = AppSyncIAMAuthentication(
        host=host, region_name=region, credentials=credentials
    ).get_headers(body)
    return {"host": host, **{name.lower(): str(value) for name, value in headers.items()}}


@pytest.fixture
def role() -> Credentials:
    return local_role_credentials()


def test_the_roles_own_signature_is_accepted(role: Credentials) -> None:
    headers = signed(role)
    assert is_sigv4(headers["authorization"])
    IamVerifier(role, HOST, REGION).verify(headers, BODY.encode())


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (lambda role: (signed(Credentials(role.access_key, "other-secret", role.token)), BODY), "signature"),
        (lambda role: (signed(Credentials("ASIAOTHER", role.secret_key, role.token)), BODY), "security token"),
        (lambda role: (signed(Credentials(role.access_key, role.secret_key, "other-token")), BODY), "security token"),
        (lambda role: (signed(role, host="127.0.0.1:4001"), BODY), "host"),
        (lambda role: (signed(role, region="us-east-1"), BODY), "scoped"),
        (lambda role: (signed(role), BODY.replace('"owner"', '"victim"')), "signature"),
        (lambda role: ({**signed(role), "authorization": "AWS4-HMAC-SHA256 Credential=x"}, BODY), "Malformed"),
    ],
    ids=["secret", "key id", "session token", "host", "region", "body changed", "malformed"],
)
def test_anything_but_the_roles_signature_of_this_request_is_refused(
    role: Credentials, change: Any, refusal: str
) -> None:
    headers, body = change(role)
    with pytest.raises(Unauthorized, match=refusal):
        IamVerifier(role, HOST, REGION).verify(headers, body.encode())


def test_a_signature_older_than_fifteen_minutes_is_refused(role: Credentials) -> None:
    headers = signed(role)
    later = datetime.strptime(headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) + timedelta(minutes=16)
    with pytest.raises(Unauthorized, match="expired"):
        IamVerifier(role, HOST, REGION).verify(headers, BODY.encode(), now=later)


def test_a_token_is_not_a_signature() -> None:
    assert not is_sigv4("eyJhbGciOiJSUzI1NiJ9.e30.sig")
    assert not is_sigv4(None)


def test_a_signature_over_a_declared_payload_hash_must_hash_the_body(role: Credentials) -> None:
    """botocore signs a given X-Amz-Content-SHA256 instead of hashing the body (UNSIGNED-PAYLOAD): a body that
    does not hash to it is refused however well the headers are signed."""
    request = AWSRequest(
        method="POST",
        url=f"https://{HOST}/graphql",
        data=BODY,
        headers={"host": HOST, "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
    )
    SigV4Auth(role, "appsync", REGION).add_auth(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert "x-amz-content-sha256" in headers["authorization"]  # signed
    with pytest.raises(Unauthorized, match="x-amz-content-sha256"):
        IamVerifier(role, HOST, REGION).verify(headers, BODY.replace('"owner"', '"victim"').encode())


@pytest.mark.parametrize("header", ["x-amz-security-token", "authorization"])
def test_characters_outside_ascii_in_a_header_are_a_refusal_not_a_crash(role: Credentials, header: str) -> None:
    headers = signed(role)
    headers[header] = headers[header] + "é"  # a server decodes header bytes as Latin-1
    with pytest.raises(Unauthorized):
        IamVerifier(role, HOST, REGION).verify(headers, BODY.encode())
