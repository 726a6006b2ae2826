"""The official SmartAPI SDK (`SmartApi`), loaded with its import-time and constructor side effects contained.

- importing `SmartApi.smartConnect` asks https://api.ipify.org for the public IP (the class body runs
  the request); the answer is then thrown away, because its `finally` hard-codes the IPs it sends. The
  module is executed with its own `from requests import get` bound to a refusal, so neither tests nor
  Lambda cold starts touch the network for it, and `requests` itself is never patched.
- `SmartConnect.__init__` creates `logs/<date>/app.log` under the working directory (read-only on
  Lambda); `SmartSession` sets the attributes the request path reads instead.
- on a failed request its logger (logzero's default) writes the request headers, bearer token
  included; that logger is switched off, and the adapter logs what it needs without secrets.
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import sys
import types
from typing import TYPE_CHECKING, Any

import logzero
import requests

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

CONNECT_MODULE = "SmartApi.smartConnect"


def _refuse_ip_lookup(url: str, *args: Any, **kwargs: Any) -> Any:
    raise requests.ConnectionError(f"basketgraph skips SmartAPI's public IP lookup ({url})")


def _sdk_import(
    name: str,
    globals: Mapping[str, object] | None = None,
    locals: Mapping[str, object] | None = None,
    fromlist: Sequence[str] = (),
    level: int = 0,
) -> types.ModuleType:
    """`__import__` for SmartConnect's module: its `from requests import get` gets the refusal; all else as usual."""
    module = builtins.__import__(name, globals, locals, fromlist, level)
    if name == "requests" and tuple(fromlist or ()) == ("get",):
        return types.SimpleNamespace(get=_refuse_ip_lookup)  # type: ignore[return-value]
    return module


class _GuardedLoader(importlib.abc.Loader):
    """Runs the module with `_sdk_import` as its `__import__` (its globals' own builtins, not the process's)."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__["__builtins__"] = {**vars(builtins), "__import__": _sdk_import}
        self._loader.exec_module(module)


class _GuardedFinder(importlib.abc.MetaPathFinder):
    """Finds `SmartApi.smartConnect` as usual and hands it to `_GuardedLoader`; other modules are not its business."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != CONNECT_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _GuardedLoader(spec.loader)
        return spec


def _import_sdk() -> tuple[Any, Any]:
    """SmartConnect and the SDK's exception module, imported without the public-IP lookup."""
    logzero.logger.disabled = True  # see the module docstring: it logs bearer tokens
    finder = _GuardedFinder()
    sys.meta_path.insert(0, finder)
    try:
        from SmartApi import smartExceptions
        from SmartApi.smartConnect import SmartConnect
    finally:
        sys.meta_path.remove(finder)
    return SmartConnect, smartExceptions


SmartConnect, smart_errors = _import_sdk()


class SmartSession(SmartConnect):  # type: ignore[misc, valid-type]
    """A SmartConnect with the state its request methods read, and none of its constructor's side effects."""

    def __init__(self, api_key: str, access_token: str, root: str, timeout: float) -> None:
        self.api_key = self.privateKey = api_key
        self.access_token = access_token.removeprefix("Bearer ").strip()
        self.refresh_token = self.feed_token = self.userId = None
        self.root = self._rootUrl = root.rstrip("/")
        self.timeout = timeout
        self.debug = False
        self.proxies: dict[str, str] = {}
        self.disable_ssl = False
        self.session_expiry_hook = None
        self.reqsession = requests
