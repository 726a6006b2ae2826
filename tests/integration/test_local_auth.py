"""The local Cognito pool issues real Cognito-format JWTs; JwtVerifier checks them as AppSync does."""

from __future__ import annotations

import stat
import time
from typing import TYPE_CHECKING, Any

import boto3
import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.server import ThreadedMotoServer
from moto.utilities.utils import load_resource

from local import auth
from local.auth import JwtVerifier
from local.cognito import DETERMINISTIC_ID_ENV, SIGNING_KEY_FILE, LocalUserPool
from trading.errors import Unauthorized

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from local.cognito import LocalUser, Tokens

REGION = "ap-south-1"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    **DETERMINISTIC_ID_ENV,
}
MOTO_KID = "dummy"  # the kid of moto's one signing key (cognitoidp/resources/jwks-*.json)


def start_moto() -> tuple[ThreadedMotoServer, str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def cognito_client(endpoint: str) -> Any:
    return boto3.client("cognito-idp", endpoint_url=endpoint, region_name=REGION)


@pytest.fixture(scope="module")
def cognito_endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in AWS_ENV.items():
            env.setenv(name, value)
        server, endpoint = start_moto()
        yield endpoint
        server.stop()


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cognito-state")


# the private key of the module's pool, read from its state directory (forge's default signer)
POOL_KEY: dict[str, Any] = {}


@pytest.fixture(scope="module")
def pool(cognito_endpoint: str, state_dir: Path) -> LocalUserPool:
    made = LocalUserPool(cognito_client(cognito_endpoint), state_dir, pool_name="basketgraph-auth-test")
    POOL_KEY["key"] = serialization.load_pem_private_key((state_dir / SIGNING_KEY_FILE).read_bytes(), None)
    return made


@pytest.fixture(scope="module")
def alice(pool: LocalUserPool) -> LocalUser:
    return pool.ensure_user("alice")


@pytest.fixture(scope="module")
def tokens(pool: LocalUserPool, alice: LocalUser) -> Tokens:
    return pool.token(alice.username)


@pytest.fixture
def verifier(pool: LocalUserPool) -> JwtVerifier:
    return JwtVerifier(jwks=pool.jwks, issuer=pool.issuer, client_ids={pool.client_id})


def moto_private_key() -> Any:
    return jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json")).key


def forge(template: str, *, key: Any = None, kid: str = MOTO_KID, drop: tuple[str, ...] = (), **claims: Any) -> str:
    """A token with `template`'s claims changed, signed with the pool's key unless `key` is given."""
    payload = jwt.decode(template, options={"verify_signature": False})
    payload.update(claims)
    for name in drop:
        payload.pop(name)
    return jwt.encode(payload, key or POOL_KEY["key"], algorithm="RS256", headers={"kid": kid})


def test_id_token_verifies_to_the_users_identity(verifier: JwtVerifier, alice: LocalUser, tokens: Tokens) -> None:
    # Given alice's id token / When verified / Then the identity is hers, shaped as AppSync's event
    identity = verifier.verify(tokens.id_token)

    assert identity.sub == alice.sub
    assert identity.username == "alice"
    assert identity.claims["token_use"] == "id"
    event = identity.to_event()
    assert set(event) == {"sub", "issuer", "username", "claims", "sourceIp", "defaultAuthStrategy", "groups"}
    assert event["sub"] == alice.sub
    assert event["issuer"] == verifier.issuer
    assert event["defaultAuthStrategy"] == "ALLOW"
    assert event["groups"] is None
    assert event["sourceIp"] == []


def test_access_token_verifies_with_bearer_prefix(verifier: JwtVerifier, alice: LocalUser, tokens: Tokens) -> None:
    identity = verifier.verify(f"Bearer {tokens.access_token}", source_ip=["127.0.0.1"])

    assert identity.sub == alice.sub
    assert identity.username == "alice"
    assert identity.to_event()["sourceIp"] == ["127.0.0.1"]


def test_groups_claim_becomes_identity_groups(verifier: JwtVerifier, tokens: Tokens) -> None:
    token = forge(tokens.id_token, **{"cognito:groups": ["desk"]})  # type: ignore[arg-type]

    assert verifier.verify(token).to_event()["groups"] == ["desk"]


def test_moto_tokens_use_cognitos_issuer_and_the_pools_client(pool: LocalUserPool, tokens: Tokens) -> None:
    claims = jwt.decode(tokens.id_token, options={"verify_signature": False})

    assert claims["iss"] == f"https://cognito-idp.{REGION}.amazonaws.com/{pool.pool_id}"
    assert claims["aud"] == pool.client_id
    assert tokens.expires_in == 3600
    assert tokens.refresh_token


def test_the_pool_signs_with_its_state_directorys_key_not_motos(
    pool: LocalUserPool, tokens: Tokens, state_dir: Path
) -> None:
    # Given the key moto ships in its package (anyone can read it)
    shipped = JwtVerifier(
        jwks=load_resource("cognitoidp/resources/jwks-public.json"),
        issuer=pool.issuer,
        client_ids={pool.client_id},
    )

    # Then the pool's tokens are not signed with it, and its key is the state directory's, private
    with pytest.raises(Unauthorized, match="signature is invalid"):
        shipped.verify(tokens.id_token)
    key_file = state_dir / SIGNING_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert pool.jwks["keys"][0]["n"] != load_resource("cognitoidp/resources/jwks-public.json")["keys"][0]["n"]


def test_ensure_user_is_stable_and_persisted_privately(pool: LocalUserPool, alice: LocalUser, state_dir: Path) -> None:
    again = pool.ensure_user("alice")

    assert again == alice
    users_file = state_dir / "users.json"
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    assert alice.sub in users_file.read_text()


def _now() -> int:
    return int(time.time())


REJECTIONS: list[tuple[str, Any, str]] = [
    # (case, how to build the Authorization value from alice's tokens, the message it must give)
    ("empty header", lambda t: "", "Missing Authorization header"),
    ("no header", lambda t: None, "Missing Authorization header"),
    ("bearer without token", lambda t: "Bearer   ", "Missing token after 'Bearer'"),
    ("not a jwt", lambda t: "not-a-jwt", "Malformed token: not a JSON Web Token"),
    ("three junk parts", lambda t: "aaa.bbb.ccc", "Malformed token: not a JSON Web Token"),
    (
        "unsigned",
        lambda t: jwt.encode(jwt.decode(t.id_token, options={"verify_signature": False}), "", algorithm="none"),
        "must be signed with RS256",
    ),
    (
        "expired",
        lambda t: forge(t.id_token, iat=_now() - 7200, auth_time=_now() - 7200, exp=_now() - 3600),
        "Token expired",
    ),
    (
        "issued in the future",
        lambda t: forge(t.id_token, iat=_now() + 3600, exp=_now() + 7200),
        "not valid yet",
    ),
    (
        "signed with moto's shipped key",
        lambda t: forge(t.id_token, key=moto_private_key()),
        "signature is invalid",
    ),
    (
        "foreign key with moto's kid",
        lambda t: forge(t.id_token, key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "signature is invalid",
    ),
    ("unknown kid", lambda t: forge(t.id_token, kid="rotated-away"), "unknown key"),
    (
        "wrong issuer",
        lambda t: forge(t.id_token, iss=f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_other"),
        "different issuer",
    ),
    ("id token for another client", lambda t: forge(t.id_token, aud="another-client"), "app client"),
    ("access token for another client", lambda t: forge(t.access_token, client_id="another-client"), "app client"),
    ("token_use missing", lambda t: forge(t.id_token, drop=("token_use",)), "Token use not accepted"),
    ("refresh token_use", lambda t: forge(t.id_token, token_use="refresh"), "Token use not accepted"),
    ("no subject", lambda t: forge(t.id_token, drop=("sub",)), "no subject"),
]


@pytest.mark.parametrize(("case", "build", "message"), REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_rejects_with_a_clear_message(
    verifier: JwtVerifier, tokens: Tokens, case: str, build: Any, message: str
) -> None:
    value = build(tokens)

    with pytest.raises(Unauthorized, match=message) as caught:
        verifier.verify(value)

    assert caught.value.error_type == "Unauthorized"
    if value and value.strip() != "Bearer":
        assert value.strip() not in str(caught.value), "the token must never be echoed"


def test_each_kind_of_failure_has_its_own_message() -> None:
    kinds = {message for _, _, message in REJECTIONS}
    assert len(kinds) == 12


def test_unknown_kid_refetches_the_key_set_once(
    pool: LocalUserPool, tokens: Tokens, cognito_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetches: list[str] = []
    real_get = requests.get

    def counting_get(url: str, **kwargs: Any) -> Any:
        fetches.append(url)
        return real_get(url, **kwargs)

    monkeypatch.setattr("local.auth.requests.get", counting_get)
    monkeypatch.setattr(auth, "JWKS_REFETCH_INTERVAL_S", 0.0)
    # a key set served by URL: moto's own, so tokens signed with moto's key here
    jwks_url = f"{cognito_endpoint}/{pool.pool_id}/.well-known/jwks.json"
    verifier = JwtVerifier(jwks_url=jwks_url, issuer=pool.issuer, client_ids={pool.client_id})

    verifier.verify(forge(tokens.id_token, key=moto_private_key()))
    verifier.verify(forge(tokens.access_token, key=moto_private_key()))
    assert len(fetches) == 1, "the key set is cached"

    with pytest.raises(Unauthorized, match="unknown key"):
        verifier.verify(forge(tokens.id_token, kid="new-key"))
    assert len(fetches) == 2, "an unknown kid refetches once"

    monkeypatch.setattr(auth, "JWKS_REFETCH_INTERVAL_S", 3600.0)
    with pytest.raises(Unauthorized, match="unknown key"):
        verifier.verify(forge(tokens.id_token, kid="newer-key"))
    assert len(fetches) == 2, "refetches are rate limited"


def test_unreachable_jwks_is_a_server_error_not_the_callers(pool: LocalUserPool, tokens: Tokens) -> None:
    verifier = JwtVerifier(
        jwks_url="http://127.0.0.1:9/nothing/.well-known/jwks.json", issuer=pool.issuer, client_ids={pool.client_id}
    )

    with pytest.raises(auth.JwksUnavailable):
        verifier.verify(tokens.id_token)


def test_verifier_needs_exactly_one_key_source() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        JwtVerifier(issuer="x", client_ids={"c"})


def test_pool_users_and_tokens_survive_a_moto_restart(tmp_path: Path) -> None:
    # Given a pool with a user and a token issued before the restart
    with pytest.MonkeyPatch.context() as env:
        for name, value in AWS_ENV.items():
            env.setenv(name, value)
        first_server, first_endpoint = start_moto()
        first_client = cognito_client(first_endpoint)
        before = LocalUserPool(first_client, tmp_path, pool_name="basketgraph-restart")
        bob = before.ensure_user("bob")
        old_token = before.token("bob").id_token
        # moto's backends live in this process, so a new server would still see the pool: forget it
        # as a restarted moto would.
        first_client.delete_user_pool(UserPoolId=before.pool_id)
        first_server.stop()

        # When moto restarts empty and the pool is set up again from the same state dir
        second_server, second_endpoint = start_moto()
        try:
            second_client = cognito_client(second_endpoint)
            assert all(
                p["Name"] != "basketgraph-restart" for p in second_client.list_user_pools(MaxResults=60)["UserPools"]
            )
            after = LocalUserPool(second_client, tmp_path, pool_name="basketgraph-restart")
            bob_again = after.ensure_user("bob")
            new_token = after.token("bob").id_token
            moto_user = second_client.admin_get_user(UserPoolId=after.pool_id, Username="bob")
            assert after.jwks == before.jwks, "the signing key is the state directory's"
            verifier = JwtVerifier(jwks=after.jwks, issuer=after.issuer, client_ids={after.client_id})
            old_identity = verifier.verify(old_token)
            new_identity = verifier.verify(new_token)
        finally:
            second_server.stop()

    # Then ids and the user's sub are unchanged, and tokens from before and after both verify
    assert (after.pool_id, after.client_id) == (before.pool_id, before.client_id)
    assert bob_again.sub == bob.sub
    assert {"Name": "sub", "Value": bob.sub} in moto_user["UserAttributes"]
    assert old_identity.sub == new_identity.sub == bob.sub
