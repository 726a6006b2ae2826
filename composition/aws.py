"""The process's AWS clients: one boto3 session, one client per service, at the settings' endpoints."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from composition.settings import Settings


class AwsClients:
    """One client per service, made on first use (tests hook the DynamoDB client's events to count requests).

    Credentials come from boto3's own chain; the region and endpoints from the settings.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._session = boto3.session.Session()
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:
            made = self._clients.get(service)
            if made is None:
                options: dict[str, Any] = {}
                endpoint = self._settings.endpoint_url(service)
                if endpoint:
                    options.update(endpoint_url=endpoint, region_name=self._settings.aws_region)
                made = self._clients[service] = self._session.client(service, **options)  # type: ignore[call-overload]
            return made

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")
