"""Caller verification as AppSync does it: bearer JWTs for Cognito user pools (giving the resolver event's
identity), and SigV4 signatures for IAM callers (the stream Lambda's role publishing)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from trading.errors import Unauthorized

ACCEPTED_TOKEN_USES = frozenset({"id", "access"})
ALGORITHM = "RS256"
# An unknown kid refetches the key set, but not more often than this, so junk tokens cannot hammer it.
JWKS_REFETCH_INTERVAL_S = 10.0


class JwksUnavailable(RuntimeError):
    """The signing keys could not be fetched; a server-side problem, not the caller's."""


@dataclass(frozen=True)
class Identity:
    """The caller as AppSync describes a Cognito user pools identity to a direct Lambda resolver."""

    sub: str
    username: str
    issuer: str
    claims: dict[str, Any]
    groups: list[str] | None = None
    source_ip: list[str] = field(default_factory=list)
    default_auth_strategy: str = "ALLOW"

    def to_event(self) -> dict[str, Any]:
        """The `identity` object of an AppSync Lambda resolver event."""
        return {
            "sub": self.sub,
            "issuer": self.issuer,
            "username": self.username,
            "claims": dict(self.claims),
            "sourceIp": list(self.source_ip),
            "defaultAuthStrategy": self.default_auth_strategy,
            "groups": list(self.groups) if self.groups is not None else None,
        }


class JwtVerifier:
    """Verifies Cognito id and access tokens: RS256 signature by `kid`, issuer, lifetime, use and client.

    Give exactly one of `jwks` (a key set) or `jwks_url` (fetched once, refetched on an unknown `kid`).
    `client_ids` are the app clients whose tokens are accepted.
    """

    def __init__(
        self,
        *,
        jwks: Mapping[str, Any] | None = None,
        jwks_url: str | None = None,
        issuer: str,
        client_ids: set[str],
        clock_skew: int = 0,
    ) -> None:
        if (jwks is None) == (jwks_url is None):
            raise ValueError("give exactly one of jwks or jwks_url")
        self.issuer = issuer
        self.client_ids = frozenset(client_ids)
        self.clock_skew = clock_skew
        self._jwks_url = jwks_url
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] | None = _parse_jwks(jwks) if jwks is not None else None
        self._fetched_at = 0.0

    def verify(self, authorization: str | None, source_ip: Sequence[str] = ()) -> Identity:
        """The caller's identity from an `Authorization` value (a raw JWT or `Bearer <jwt>`).

        Raises: `Unauthorized` naming what is wrong with the token (never echoing it);
        `JwksUnavailable` if the signing keys cannot be fetched.
        """
        token = _token_from(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise Unauthorized("Malformed token: not a JSON Web Token") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthorized(f"Malformed token: it must be signed with {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("Malformed token: its header has no key id (kid)")
        key = self._key(kid)
        claims = self._decode(token, key)
        use = claims.get("token_use")
        if use not in ACCEPTED_TOKEN_USES:
            raise Unauthorized("Token use not accepted: send a Cognito id or access token")
        client_id = claims.get("aud") if use == "id" else claims.get("client_id")
        if not isinstance(client_id, str) or client_id not in self.client_ids:
            raise Unauthorized("Token was issued to an app client this API does not accept")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise Unauthorized("Malformed token: it has no subject (sub)")
        username = claims.get("cognito:username") or claims.get("username") or sub
        groups = claims.get("cognito:groups")
        return Identity(
            sub=sub,
            username=str(username),
            issuer=self.issuer,
            claims=claims,
            groups=list(groups) if isinstance(groups, list) else None,
            source_ip=list(source_ip),
        )

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                leeway=self.clock_skew,
                options={"require": ["exp", "iat", "iss", "token_use"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Token expired: sign in again for a fresh token") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("Token signature is invalid: it was not signed by this user pool") from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("Token is not valid yet: its iat or nbf is in the future") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("Token was issued by a different issuer than this API's user pool") from None
        except jwt.MissingRequiredClaimError as exc:
            if exc.claim == "token_use":
                raise Unauthorized("Token use not accepted: send a Cognito id or access token") from None
            raise Unauthorized(f"Malformed token: the {exc.claim} claim is missing") from None
        except jwt.InvalidTokenError:
            raise Unauthorized("Malformed token: its claims could not be read") from None
        return claims

    def _key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            if self._keys is None or (kid not in self._keys and self._may_refetch()):
                self._keys = self._fetch()
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("Token was signed by an unknown key (kid not in the user pool's key set)")
        return key

    def _may_refetch(self) -> bool:
        return self._jwks_url is not None and time.monotonic() - self._fetched_at >= JWKS_REFETCH_INTERVAL_S

    def _fetch(self) -> dict[str, jwt.PyJWK]:
        assert self._jwks_url is not None  # noqa: S101 -- only called when a URL was given
        try:
            response = requests.get(self._jwks_url, timeout=5)
            response.raise_for_status()
            keys = _parse_jwks(response.json())
        except (requests.RequestException, ValueError) as exc:
            raise JwksUnavailable(f"cannot fetch the signing keys from {self._jwks_url}: {exc}") from exc
        self._fetched_at = time.monotonic()
        return keys


SIGV4_ALGORITHM = "AWS4-HMAC-SHA256"
SIGV4_SERVICE = "appsync"
# SigV4 refuses a request whose x-amz-date is further than this from the service's clock
SIGV4_MAX_SKEW = timedelta(minutes=15)


def is_sigv4(authorization: str | None) -> bool:
    """Whether an `Authorization` value is a SigV4 signature (an IAM caller) rather than a token."""
    return (authorization or "").startswith(f"{SIGV4_ALGORITHM} ")


def local_role_credentials() -> Credentials:
    """Fresh credentials for a role of the local stack (its stream Lambda's), as STS would issue them."""
    return Credentials(f"ASIA{secrets.token_hex(8).upper()}", secrets.token_urlsafe(30), secrets.token_urlsafe(48))


class IamVerifier:
    """Verifies SigV4-signed requests as AppSync does for IAM callers: botocore recomputes the signature
    over the signed headers and the body with the one role's `credentials`, for the `host` the endpoint
    serves and its `region`; the key id, session token, scope and date must match too."""

    def __init__(self, credentials: Credentials, host: str, region: str) -> None:
        self.credentials = credentials
        self.host = host
        self.region = region
        self._signer = SigV4Auth(credentials, SIGV4_SERVICE, region)

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime | None = None) -> None:
        """Returns if `headers` (lower-case names) sign `body` with the role's credentials; raises
        `Unauthorized` saying what is wrong (never echoing the signature)."""
        parts = _sigv4_parts(headers.get("authorization", ""))
        credential = parts.get("Credential", "").split("/")
        signed = [name for name in parts.get("SignedHeaders", "").split(";") if name]
        if len(credential) != 5 or not signed or not parts.get("Signature"):
            raise Unauthorized("Malformed SigV4 Authorization header")
        access_key, day, region, service, terminal = credential
        if access_key != self.credentials.access_key:
            raise Unauthorized("The security token included in the request is invalid")
        if (region, service, terminal) != (self.region, SIGV4_SERVICE, "aws4_request"):
            raise Unauthorized(f"Credential should be scoped to {self.region}/{SIGV4_SERVICE}/aws4_request")
        if "host" not in signed or headers.get("host") != self.host:
            raise Unauthorized("The request must be signed for this API's host")
        token = headers.get("x-amz-security-token")
        if token is None or "x-amz-security-token" not in signed or not _same(token, self.credentials.token or ""):
            raise Unauthorized("The security token included in the request is invalid")
        stamp = headers.get("x-amz-date", "")
        try:
            at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise Unauthorized("The request has no valid X-Amz-Date") from None
        if stamp[:8] != day or abs((now or datetime.now(UTC)) - at) > SIGV4_MAX_SKEW:
            raise Unauthorized("Signature expired: the request's X-Amz-Date is not within 15 minutes of now")
        # botocore takes a signed X-Amz-Content-SHA256 as the body's hash (UNSIGNED-PAYLOAD too): it must be the
        # body's, or the signature would cover a hash the caller chose rather than the body that came
        declared = headers.get("x-amz-content-sha256")
        if declared is not None and not _same(declared, hashlib.sha256(body).hexdigest()):
            raise Unauthorized("The provided 'x-amz-content-sha256' header does not match what was computed.")
        request = AWSRequest(
            method="POST",
            url=f"https://{self.host}/graphql",
            data=body,
            headers={name: headers[name] for name in signed if name in headers},
        )
        request.context["timestamp"] = stamp
        signer = self._signer
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if not _same(parts["Signature"], expected):
            raise Unauthorized(
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method."
            )


def _same(given: str, expected: str) -> bool:
    """A constant-time comparison of header values, whatever characters a caller put in them."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def _sigv4_parts(authorization: str) -> dict[str, str]:
    if not is_sigv4(authorization):
        raise Unauthorized("Malformed SigV4 Authorization header")
    parts: dict[str, str] = {}
    for part in authorization.removeprefix(f"{SIGV4_ALGORITHM} ").split(","):
        name, _, value = part.strip().partition("=")
        parts[name] = value
    return parts


def _token_from(authorization: str | None) -> str:
    value = (authorization or "").strip()
    if not value:
        raise Unauthorized("Missing Authorization header: send a Cognito id or access token")
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
        if not value:
            raise Unauthorized("Missing token after 'Bearer' in the Authorization header")
    return value


def _parse_jwks(jwks: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise ValueError("a JWKS must be an object with a list of keys")
    for entry in jwks["keys"]:
        if not isinstance(entry, Mapping):
            continue
        kid = entry.get("kid")
        if not kid or entry.get("use", "sig") != "sig":
            continue
        try:
            keys[kid] = jwt.PyJWK(dict(entry))
        except jwt.PyJWKError:
            continue
    return keys
