"""The contract suite never leaves loopback: any other connection or name lookup fails the test."""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING, Any

import pytest

from tests.contract.venues import VENUES

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.contract.venues import Venue

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _is_loopback(host: Any) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OffLoopback(AssertionError):
    """Raised (and recorded) when code under test reaches past loopback."""


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    attempts: list[str] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(host):
            attempts.append(f"connect {host}")
            raise OffLoopback(f"network access outside loopback: {address}")
        return real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host.decode() if isinstance(host, bytes) else host):
            attempts.append(f"resolve {host}")
            raise OffLoopback(f"name lookup outside loopback: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts
    assert not attempts, f"the test reached past loopback: {attempts}"


@pytest.fixture(params=sorted(VENUES))
def venue(request: pytest.FixtureRequest) -> Iterator[Venue]:
    """Each adapter against its venue: the paper exchange (Kite), recorded Angel One, recorded Shoonya."""
    opened = VENUES[request.param]()
    yield opened
    opened.close()
