"""Typed domain errors. Each carries the stable `error_type` the API reports."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    error_type = "DomainError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError):
    """The input breaks a rule; nothing was written."""

    error_type = "ValidationError"


class NotFound(DomainError):
    """No such thing for this caller (also what another user's data looks like)."""

    error_type = "NotFound"


class Conflict(DomainError):
    """The thing changed underneath (stale version, state that forbids the action, duplicate)."""

    error_type = "Conflict"


class Unauthorized(DomainError):
    """The caller may not do this."""

    error_type = "Unauthorized"


class BrokerRejected(DomainError):
    """The broker refused the order; its message is kept."""

    error_type = "BrokerRejected"


class BrokerUnavailable(DomainError):
    """The broker could not be reached or did not answer in time."""

    error_type = "BrokerUnavailable"


class BrokerNotConnected(DomainError):
    """The caller has no usable broker session; they must (re)connect the account."""

    error_type = "BrokerNotConnected"


class RateLimited(DomainError):
    """Too many requests; retry later."""

    error_type = "RateLimited"


class InsufficientMargin(DomainError):
    """The account's available funds do not cover what the request would block; nothing was sent."""

    error_type = "InsufficientMargin"


class NotSupported(DomainError):
    """The broker offers no such call (e.g. a basket margin estimate); nothing was asked of it."""

    error_type = "NotSupported"


class TradingHalted(DomainError):
    """The broker account is locked (a daily limit was reached, or the kill switch is engaged): no new orders."""

    error_type = "TradingHalted"
