"""The broker SDKs load without touching the network (SmartAPI's import asks api.ipify.org for the IP)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter, so the SDK modules are imported for the first time under the guard.
GUARDED = """
import json, socket, sys
attempts = []
real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
def getaddrinfo(host, *a, **k):
    if host not in (None, "localhost", "127.0.0.1", "::1", b"localhost", b"127.0.0.1"):
        attempts.append(str(host))
        raise OSError("blocked: " + str(host))
    return real_getaddrinfo(host, *a, **k)
def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1", "localhost"):
        attempts.append(str(address[0]))
        raise OSError("blocked: " + str(address))
    return real_connect(self, address)
socket.getaddrinfo, socket.socket.connect = getaddrinfo, connect
exec(sys.argv[1])
print(json.dumps(attempts))
"""


def _attempts(code: str, tmp_path: Path) -> list[str]:
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", GUARDED, code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_guard_sees_the_sdks_own_ip_lookup(tmp_path: Path) -> None:
    # Given / When: the SDK imported as its README says
    attempts = _attempts("from SmartApi import SmartConnect", tmp_path)

    # Then: the guard is able to catch it (so the next test means something)
    assert "api.ipify.org" in attempts


def test_our_adapters_import_and_connect_without_the_network(tmp_path: Path) -> None:
    # Given / When
    attempts = _attempts(
        "from brokers.smartapi.broker import SmartApiBroker\n"
        "from brokers.shoonya.broker import ShoonyaBroker\n"
        "from tests.contract.venues import StaticInstruments\n"
        "SmartApiBroker('key', 'token', StaticInstruments([]), root='http://127.0.0.1:9')\n"
        "ShoonyaBroker('user', 'token', StaticInstruments([]), root='http://127.0.0.1:9/', websocket='ws://127.0.0.1:9')\n",
        tmp_path,
    )

    # Then: no lookup and no connection, and the SDK's constructor left no log folder behind
    assert attempts == []
    assert not (tmp_path / "logs").exists()


def test_the_ip_lookup_is_refused_in_the_sdks_module_only(tmp_path: Path) -> None:
    # Given a `requests` module that records every attribute set on it
    code = (
        "import types, requests\n"
        "written = []\n"
        "class Watched(types.ModuleType):\n"
        "    def __setattr__(self, name, value):\n"
        "        written.append(name)\n"
        "        super().__setattr__(name, value)\n"
        "real_get = requests.get\n"
        "requests.__class__ = Watched\n"
        "from brokers.smartapi.broker import SmartApiBroker\n"
        "import SmartApi.smartConnect as sdk\n"
        "assert written == [], written\n"
        "assert requests.get is real_get\n"
        "assert sdk.get is not real_get\n"
    )

    # When the adapter loads the SDK / Then: only the SDK's own `get` refuses, and nothing was looked up
    assert _attempts(code, tmp_path) == []
