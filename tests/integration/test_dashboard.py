"""The dashboard's page, config and esbuild bundle are served by the stack's routes, offline."""

from __future__ import annotations

import os
import re
import shutil
import time
from typing import TYPE_CHECKING

import pytest
import requests

from local.dashboard import WEB, bundle_is_stale, dashboard_routes, ensure_bundle, local_config
from tests.integration.test_graphiql import serve

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    pool = {"user_pool_id": "ap-south-1_local", "client_id": "localclient", "cognito_endpoint": "http://127.0.0.1:5999"}
    yield from serve(dashboard_routes(local_config("/graphql", **pool)))


def test_root_serves_the_dashboard_page_loading_only_our_own_files(base_url: str) -> None:
    response = requests.get(f"{base_url}/", timeout=5)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert re.findall(r"(?i)(?:https?:)?//[a-z0-9-]+(?:\.[a-z0-9-]+)+", response.text) == [], "no CDN"
    assert re.findall(r'<script src="([^"]+)"', response.text) == ["/dashboard/app.js"]
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', response.text) == ["/dashboard/app.css"]


def test_bundle_is_built_from_web_sources_and_served(base_url: str) -> None:
    script = requests.get(f"{base_url}/dashboard/app.js", timeout=5)
    styles = requests.get(f"{base_url}/dashboard/app.css", timeout=5)

    assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
    assert styles.status_code == 200 and styles.headers["content-type"].startswith("text/css")
    # React, chart.js and AWS Amplify (its AppSync real-time client and Cognito sign-in) are inside, not fetched
    assert len(script.content) > 150_000
    for marker in (b"connection_init", b"start_ack", b"graphql-ws", b"appsync-realtime-api", b"USER_PASSWORD_AUTH"):
        assert marker in script.content
    assert not bundle_is_stale()


def test_config_points_the_dashboard_at_this_stack(base_url: str) -> None:
    config = requests.get(f"{base_url}/dashboard/config.json", timeout=5).json()

    # Amplify's settings: the API (relative to the page) and the local Cognito as its userPoolEndpoint
    assert config == {
        "graphqlUrl": "/graphql",
        "graphiqlUrl": "/graphql",
        "region": "ap-south-1",
        "auth": {
            "type": "cognito",
            "region": "ap-south-1",
            "userPoolId": "ap-south-1_local",
            "userPoolClientId": "localclient",
            "userPoolEndpoint": "http://127.0.0.1:5999",
            "authFlowType": "USER_PASSWORD_AUTH",
            "localUsersUrl": "/local/users",
        },
    }


def test_a_changed_source_makes_the_bundle_stale_and_a_build_refreshes_it(tmp_path: Path) -> None:
    # Given a copy of web/ with a built bundle
    web = tmp_path / "web"
    shutil.copytree(WEB, web, ignore=shutil.ignore_patterns("dist"))
    os.symlink(WEB.parent / "node_modules", tmp_path / "node_modules")
    os.symlink(WEB.parent / "local", tmp_path / "local")  # the templates bundle local/demo_baskets.json
    assert bundle_is_stale(web)
    assert ensure_bundle(web) is None
    assert not bundle_is_stale(web)

    # When a source changes / Then the bundle is stale, and ensure_bundle rebuilds it
    edited = time.time()
    os.utime(web / "src" / "templates.js", (edited, edited))
    os.utime(web / "dist" / "app.js", (edited - 60, edited - 60))  # built before that edit
    assert bundle_is_stale(web)
    assert ensure_bundle(web) is None
    assert not bundle_is_stale(web)


def test_a_broken_source_is_reported_and_the_page_says_how_to_fix_it(tmp_path: Path) -> None:
    web = tmp_path / "web"
    shutil.copytree(WEB, web, ignore=shutil.ignore_patterns("dist"))
    os.symlink(WEB.parent / "node_modules", tmp_path / "node_modules")
    os.symlink(WEB.parent / "local", tmp_path / "local")  # the templates bundle local/demo_baskets.json
    (web / "src" / "main.jsx").write_text("export const broken = (;\n")

    problem = ensure_bundle(web)

    assert problem is not None and "esbuild failed" in problem
    server = serve(dashboard_routes(local_config(), web=web))
    page = requests.get(f"{next(server)}/", timeout=5)
    next(server, None)
    assert page.status_code == 503
    assert "esbuild failed" in page.text and "make web" in page.text
