"""Bearer JWT verification as AppSync does it for Cognito user pools, giving the resolver event's identity."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests

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
