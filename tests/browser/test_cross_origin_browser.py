"""The dashboard bundle on another origin than the stack, configured as for a deployed AppSync (absolute API and
Cognito URLs in its config.json, nothing local): in Debian's chromium it signs in through Amplify's Cognito
sign-in, queries and mutates through Amplify's GraphQL client and receives onOrderUpdate/onFill through
Amplify's real-time client.

Amplify v6 always opens wss:// (it rewrites http:// to wss://). Over the plain-http stack the page lets that
socket open as ws:// for the stack's host only (web/src/realtime.js); under `--tls` nothing is changed and
chromium trusts exactly the stack's server key with --ignore-certificate-errors-spki-list (its CA is not
installed in the browser)."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from local.dashboard import WEB, ensure_bundle
from tests.browser.drive import needs_chromium, real_problems, run_scenario
from tests.helpers import invoke

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from local.stack import LocalStack
    from tests.tls_stack import TlsStack

BUNDLE_TYPES = {"app.js": "application/javascript", "app.css": "text/css", "app.js.map": "application/json"}


def deployed_config(stack_url: str, verify: str | bool = True) -> dict[str, Any]:
    """The stack's own dashboard config made absolute and stripped of the local stack's shortcut (creating the
    user at /local/users): the shape of a config for a deployed AppSync and its user pool."""
    config: dict[str, Any] = requests.get(f"{stack_url}/dashboard/config.json", timeout=30, verify=verify).json()
    auth = dict(config["auth"])
    auth.pop("localUsersUrl")
    auth["userPoolEndpoint"] = f"{stack_url}{auth['userPoolEndpoint']}"
    return {**config, "graphqlUrl": f"{stack_url}/graphql", "graphiqlUrl": f"{stack_url}/graphql", "auth": auth}


@contextmanager
def static_site(config: dict[str, Any]) -> Iterator[str]:
    """web/dist, its page and `config` served by a plain static server on its own port (another origin)."""
    assert ensure_bundle() is None

    class Site(BaseHTTPRequestHandler):
        files: ClassVar[dict[str, tuple[Path, str]]] = {
            "/": (WEB / "index.html", "text/html; charset=utf-8"),
            **{f"/dashboard/{name}": (WEB / "dist" / name, kind) for name, kind in BUNDLE_TYPES.items()},
        }

        def do_GET(self) -> None:
            if self.path == "/dashboard/config.json":
                body, kind = json.dumps(config).encode(), "application/json"
            elif self.path in self.files:
                path, kind = self.files[self.path]
                body = path.read_bytes()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=server.serve_forever, name="static-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def spki_hash(cert_file: Path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of a certificate: what chromium's SPKI allow-list takes."""
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def assert_signed_in_queried_and_subscribed(result: dict[str, Any], stack_url: str, user: dict[str, str]) -> None:
    # the page is on its own origin and spoke only to it and to the stack (GraphQL, Cognito, real-time)
    assert result["pageOrigin"] != result["stackOrigin"] == stack_url
    assert set(result["origins"]) == {result["pageOrigin"], stack_url}
    # signed in through Cognito: the session is the user's, with Cognito's access token
    assert result["signedInAs"].startswith(user["username"])
    assert result["session"]["sub"] == user["sub"]
    assert result["session"]["token"] != user["token"]  # its own sign-in, not a token minted for the test
    # the basket's orders completed and every fill arrived over the subscription
    assert result["orders"] == ["COMPLETE"] * 4
    assert len(result["fills"]) == 4  # the trade book's rows: time, side, symbol, quantity in lots, price, trade id
    assert all("\tNIFTY26DEC" in fill and "\t65 (1 lot \u00d7 65)\t" in fill for fill in result["fills"])
    assert result["connection"] == "Live updates: connected"
    assert result["errors"] == []
    assert real_problems(result) == []


@needs_chromium
def test_a_page_on_another_origin_signs_in_queries_and_subscribes_over_http(stack: LocalStack) -> None:
    user = stack.add_user("xorigin_http")

    with static_site(deployed_config(stack.url)) as site:
        result = run_scenario(
            "cross_origin.mjs",
            {"siteUrl": site, "stackUrl": stack.url, "username": user["username"], "password": user["password"]}
            | {"label": "http"},
        )

    assert_signed_in_queried_and_subscribed(result, stack.url, user)
    # Amplify's one socket, opened as ws:// (the page's allowance for a plain-http stack)
    assert result["sockets"] == [f"{stack.url.replace('http://', 'ws://')}/graphql/realtime"]
    basket = invoke("Query", "basket", {"id": result["basketId"]}, user["sub"])
    assert basket["status"] == "CLOSED"


@needs_chromium
def test_a_page_on_another_origin_signs_in_queries_and_subscribes_over_tls(tls_stack: TlsStack) -> None:
    user = tls_stack.add_user("xorigin_tls")
    spki = spki_hash(tls_stack.ca_file.parent / "server.pem")

    with static_site(deployed_config(tls_stack.url, verify=str(tls_stack.ca_file))) as site:
        credentials = {"siteUrl": site, "username": user["username"], "password": user["password"]}
        untrusted = run_scenario("cross_origin.mjs", {**credentials, "untrusted": True})
        result = run_scenario(
            "cross_origin.mjs", {**credentials, "stackUrl": tls_stack.url, "spki": spki, "label": "tls"}
        )

    # without the allowance chromium refuses the stack's certificate: the trust comes from the SPKI list only
    assert any(error.startswith("Offline") for error in untrusted["errors"]), untrusted
    assert any("ERR_CERT_AUTHORITY_INVALID" in problem for problem in untrusted["problems"]), untrusted
    assert_signed_in_queried_and_subscribed(result, tls_stack.url, user)
    # Amplify's own wss:// socket, untouched
    assert result["sockets"] == [f"{tls_stack.url.replace('https://', 'wss://')}/graphql/realtime"]
    assert tls_stack.basket(result["basketId"], user["token"])["status"] == "CLOSED"
