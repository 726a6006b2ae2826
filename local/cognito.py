"""A local Cognito user pool (moto) whose pool, app client and users keep their ids across restarts.

The pool signs with a key pair of its own, made for the state directory at first start and kept there
(`cognito-signing-key.pem`, mode 0600), never the key moto ships in its package: anyone can read that one,
so a token it signs is refused.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

if TYPE_CHECKING:
    from pathlib import Path

# moto derives pool and client ids from a hash of their creation parameters instead of a random uuid,
# so the same pool name and client settings give the same ids after every restart.
DETERMINISTIC_ID_ENV = {
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
}

SIGNING_KEY_FILE = "cognito-signing-key.pem"
# moto names this kid in the header of every token it signs (its create_jwt), whatever the key
SIGNING_KID = "dummy"
APP_CLIENT_NAME = "basketgraph-local-app"
APP_CLIENT_AUTH_FLOWS = [
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
]


@dataclass(frozen=True)
class LocalUser:
    username: str
    sub: str


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str
    expires_in: int


def use_deterministic_ids() -> None:
    """Make an in-process moto derive pool and client ids from their parameters (call before creating)."""
    os.environ.update(DETERMINISTIC_ID_ENV)


class LocalUserPool:
    """A user pool and app client on a moto Cognito endpoint, with users persisted in `state_dir`.

    Parameters: `cognito_client` is a boto3 `cognito-idp` client pointed at moto; `state_dir` holds
    `users.json` (`{username: {"sub", "password"}}`, mode 0600) so users and their `sub` survive restarts.
    """

    def __init__(self, cognito_client: Any, state_dir: Path, pool_name: str = "basketgraph-local") -> None:
        use_deterministic_ids()
        self._cognito = cognito_client
        self._state_dir = state_dir
        self._users_file = state_dir / "users.json"
        self._lock = threading.Lock()
        state_dir.mkdir(parents=True, exist_ok=True)
        self._pool_id = self._find_or_create_pool(pool_name)
        self._client_id = self._find_or_create_client()
        self._signing_pem = _signing_key_pem(state_dir / SIGNING_KEY_FILE)
        self._install_signing_key()

    @property
    def pool_id(self) -> str:
        return self._pool_id

    @property
    def client_id(self) -> str:
        return self._client_id

    @property
    def region(self) -> str:
        return str(self._cognito.meta.region_name)

    @property
    def issuer(self) -> str:
        """The `iss` claim of this pool's tokens (moto uses Cognito's real issuer format)."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self._pool_id}"

    @property
    def jwks(self) -> dict[str, Any]:
        """The pool's public signing keys as a JWKS (moto's jwks.json URL serves its shipped key instead)."""
        private = serialization.load_pem_private_key(self._signing_pem, password=None)
        assert isinstance(private, rsa.RSAPrivateKey)  # noqa: S101 -- the file is ours, written as RSA
        public: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        return {"keys": [{**public, "kid": SIGNING_KID, "alg": "RS256", "use": "sig"}]}

    def _install_signing_key(self) -> None:
        """Make moto's pool sign with this state directory's key (moto has no API for it)."""
        from joserfc import jwk

        pool = self._moto_pool()
        if pool is None:
            raise RuntimeError(
                "the local user pool signs with a key of its own, set in moto's backend: it needs moto in this "
                "process (moto's shipped key is public, so its tokens are refused)"
            )
        pool.json_web_key = jwk.RSAKey.import_key(self._signing_pem)

    def _moto_pool(self) -> Any:
        from moto.cognitoidp.models import cognitoidp_backends

        arn = self._cognito.describe_user_pool(UserPoolId=self._pool_id)["UserPool"]["Arn"]
        account_id = arn.split(":")[4]
        return cognitoidp_backends[account_id][self.region].user_pools.get(self._pool_id)

    def ensure_user(self, username: str) -> LocalUser:
        """The user, created with a random password if missing; a persisted user keeps its `sub`."""
        with self._lock:
            users = self._load_users()
            saved = users.get(username)
            password = saved["password"] if saved else _strong_password()
            moto_sub = self._existing_sub(username)
            if moto_sub is None:
                created = self._cognito.admin_create_user(
                    UserPoolId=self._pool_id, Username=username, MessageAction="SUPPRESS"
                )
                moto_sub = _attribute(created["User"].get("Attributes", []), "sub")
                self._set_password(username, password)
            elif saved is None:
                # Known to moto but not to us (made by someone else): take it over with a password we keep.
                self._set_password(username, password)
            sub = saved["sub"] if saved else moto_sub
            if sub != moto_sub:
                self._restore_sub(username, sub)
            if saved != {"sub": sub, "password": password}:
                users[username] = {"sub": sub, "password": password}
                self._save_users(users)
            return LocalUser(username=username, sub=sub)

    def password(self, username: str) -> str:
        """The user's local password (made by `ensure_user`): what a client signing in through Cognito sends."""
        self.ensure_user(username)
        return self._load_users()[username]["password"]

    def token(self, username: str) -> Tokens:
        """Fresh id, access and refresh tokens for the user (created first if needed)."""
        self.ensure_user(username)
        password = self._load_users()[username]["password"]
        result = self._cognito.admin_initiate_auth(
            UserPoolId=self._pool_id,
            ClientId=self._client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )["AuthenticationResult"]
        return Tokens(
            id_token=result["IdToken"],
            access_token=result["AccessToken"],
            refresh_token=result["RefreshToken"],
            expires_in=int(result["ExpiresIn"]),
        )

    def _find_or_create_pool(self, name: str) -> str:
        for page in self._cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
            for pool in page["UserPools"]:
                if pool["Name"] == name:
                    return str(pool["Id"])
        return str(self._cognito.create_user_pool(PoolName=name)["UserPool"]["Id"])

    def _find_or_create_client(self) -> str:
        pages = self._cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=self._pool_id, MaxResults=60)
        for page in pages:
            for client in page["UserPoolClients"]:
                if client["ClientName"] == APP_CLIENT_NAME:
                    return str(client["ClientId"])
        created = self._cognito.create_user_pool_client(
            UserPoolId=self._pool_id,
            ClientName=APP_CLIENT_NAME,
            GenerateSecret=False,
            ExplicitAuthFlows=APP_CLIENT_AUTH_FLOWS,
        )
        return str(created["UserPoolClient"]["ClientId"])

    def _existing_sub(self, username: str) -> str | None:
        try:
            user = self._cognito.admin_get_user(UserPoolId=self._pool_id, Username=username)
        except self._cognito.exceptions.UserNotFoundException:
            return None
        return _attribute(user.get("UserAttributes", []), "sub")

    def _set_password(self, username: str, password: str) -> None:
        self._cognito.admin_set_user_password(
            UserPoolId=self._pool_id, Username=username, Password=password, Permanent=True
        )

    def _restore_sub(self, username: str, sub: str) -> None:
        """Give a recreated user its persisted `sub` by editing moto's in-process backend.

        Cognito keeps users (and their `sub`) durably and offers no API to choose a `sub`; moto forgets
        users on restart and assigns a random one. The local stand-in for Cognito's durable store is
        `users.json` plus this edit, so data owned by a `sub` stays reachable after a restart.
        """
        pool = self._moto_pool()
        user = pool._get_user(username) if pool is not None else None
        if user is None:
            raise RuntimeError(
                f"cannot restore the sub of local user {username!r}: the user pool is not served by an "
                "in-process moto; start moto in this process or delete the state dir's users.json"
            )
        user.id = sub
        user.update_attributes([{"Name": "sub", "Value": sub}])

    def usernames(self) -> list[str]:
        """Every user kept in `users.json` (the stack re-creates them in a fresh moto at start)."""
        with self._lock:
            return sorted(self._load_users())

    def _load_users(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self._users_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        if not isinstance(data, dict):
            raise ValueError(f"{self._users_file} must hold a JSON object of users")
        return data

    def _save_users(self, users: dict[str, dict[str, str]]) -> None:
        tmp = self._users_file.with_suffix(".json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(users, out, indent=2, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self._users_file)


def _signing_key_pem(path: Path) -> bytes:
    """The PEM private key in `path`, made (RSA 2048, mode 0600) if there is none."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(tmp, path)  # whole or not at all, and never over a key another process made first
    except FileExistsError:
        return path.read_bytes()
    finally:
        tmp.unlink()
    return pem


def _strong_password() -> str:
    # token_urlsafe may lack a digit or a case; the suffix satisfies the default Cognito password policy.
    return secrets.token_urlsafe(24) + "Aa1!"


def _attribute(attributes: list[dict[str, str]], name: str) -> str:
    for attribute in attributes:
        if attribute["Name"] == name:
            return attribute["Value"]
    raise KeyError(f"user has no {name!r} attribute")
