"""A user's broker account as values: the broker names, an account's status, a login's session."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trading.errors import ValidationError

if TYPE_CHECKING:
    from datetime import datetime

    from trading.ids import OwnerId


class BrokerName(enum.StrEnum):
    """A broker, as the API names it ("KITE"); `key` is the adapter's name orders and secrets carry ("kite")."""

    KITE = "KITE"
    ANGEL = "ANGEL"
    SHOONYA = "SHOONYA"
    PAPER = "PAPER"

    @property
    def key(self) -> str:
        """The adapter's name, as orders and secrets carry it ("kite", "paper", ...)."""
        return self.value.lower()

    @classmethod
    def of(cls, name: object) -> BrokerName:
        """The one conversion from a string: the API's name ("KITE") or the adapter's ("kite").

        Raises
        ------
        ValidationError
            Not a broker's name.
        """
        for member in cls:
            if name in (member.value, member.key):
                return member
        raise ValidationError(f"broker must be one of {', '.join(m.value for m in cls)}")


class AccountStatus(enum.StrEnum):
    CONNECTED = "CONNECTED"
    DISCONNECTED = "DISCONNECTED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class BrokerAccount:
    """A user's account at one broker. `status` is as stored; `status_at` adds token expiry."""

    owner: OwnerId
    broker: BrokerName
    status: AccountStatus
    updated_at: datetime
    broker_user_id: str | None = None
    api_key: str | None = None
    token_expires_at: datetime | None = None
    connected_at: datetime | None = None
    reason: str | None = None

    def status_at(self, now: datetime) -> AccountStatus:
        expired = self.token_expires_at is not None and self.token_expires_at <= now
        if self.status is AccountStatus.CONNECTED and expired:
            return AccountStatus.EXPIRED
        return self.status


@dataclass(frozen=True)
class Session:
    """What a broker's session API returns: the user at the broker, a token, and when the adapter says it dies."""

    user_id: str
    access_token: str
    expires_at: datetime | None


@dataclass(frozen=True)
class AppCredentials:
    """The broker app a login goes through: its key (public, in login URLs) and its secret."""

    api_key: str
    api_secret: str | None


def secret_name(owner: OwnerId, broker: BrokerName | str, what: str) -> str:
    """Where one of a user's broker secrets is kept, under the deployment's prefix: `/{sub}/{broker}/{what}`."""
    key = broker.key if isinstance(broker, BrokerName) else broker
    return f"/{owner}/{key}/{what}"
