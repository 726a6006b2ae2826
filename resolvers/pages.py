"""Page tokens a client can hold but not read: AES-GCM over the store's token, bound to the caller and the query.

The key is the deployment's: a SecureString under the secrets prefix (`<prefix>/deployment/page-token-key`),
made by the first resolver that finds none (the resolver role may write under the prefix). A token sealed
for one caller, field or filter does not open for another; a forged or edited one is `invalid nextToken`.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
import weakref
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from trading.errors import ValidationError

if TYPE_CHECKING:
    from composition.runtime import Composition

INVALID_TOKEN = "invalid nextToken"  # noqa: S105 (the store's message for a token it cannot continue)
KEY_NAME = "/deployment/page-token-key"
NONCE_BYTES = 12
MAX_TOKEN_CHARS = 2048


class PageTokens:
    """Seals the store's page tokens for one scope (caller, field, filters) and opens them again."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, token: str | None, scope: str) -> str | None:
        if token is None:
            return None
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, token.encode(), scope.encode())
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, token: str | None, scope: str) -> str | None:
        """The store's token inside `token`; raises ValidationError unless sealed here for `scope`."""
        if token is None:
            return None
        if len(token) > MAX_TOKEN_CHARS:
            raise ValidationError(INVALID_TOKEN)
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            opened = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], scope.encode())
            return opened.decode()
        except (ValueError, binascii.Error, InvalidTag, UnicodeError):
            raise ValidationError(INVALID_TOKEN) from None


_by_composition: weakref.WeakKeyDictionary[Composition, PageTokens] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def page_tokens(composed: Composition) -> PageTokens:
    """The deployment's sealer, its key read (or made) once per composition."""
    with _lock:
        found = _by_composition.get(composed)
        if found is None:
            found = PageTokens(_key(composed))
            _by_composition[composed] = found
        return found


def _key(composed: Composition) -> bytes:
    secrets = composed.secrets
    stored = secrets.get(KEY_NAME)
    if stored is None:
        secrets.put(KEY_NAME, base64.b64encode(AESGCM.generate_key(bit_length=256)).decode())
        # two cold starts may race; both go on with whichever write landed last
        stored = secrets.require(KEY_NAME)
    return base64.b64decode(stored)


def scope(*parts: object) -> str:
    """What a token is bound to: the caller, the field and its filters (None as empty)."""
    return "\x1f".join("" if part is None else str(part) for part in parts)
