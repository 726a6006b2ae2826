"""The embedded server keeps its HTTP/1.1 connections open between requests, and reads each request whole."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

AUTH = "AWS4-HMAC-SHA256 Credential=testing/20260101/ap-south-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"


def _list_tables(connection: http.client.HTTPConnection, **headers: str) -> http.client.HTTPResponse:
    connection.request(
        "POST",
        "/",
        body=json.dumps({"Limit": 5}),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Authorization": AUTH,
            **headers,
        },
    )
    return connection.getresponse()


def test_requests_share_one_connection_and_a_request_to_close_closes_it(moto_endpoint: str) -> None:
    url = urlsplit(moto_endpoint)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        # Given one connection; when three requests are sent over it, the second with a body nobody reads
        first = _list_tables(connection)
        assert first.status == 200 and "TableNames" in json.loads(first.read())
        sock = connection.sock
        assert sock is not None  # kept open after the answer
        connection.request("POST", "/unknown-route", body=b"x" * 10_000, headers={"Authorization": AUTH})
        connection.getresponse().read()
        third = _list_tables(connection)
        # Then each is answered on the same socket, the unread body drained before the next request
        assert third.status == 200 and "TableNames" in json.loads(third.read())
        assert connection.sock is sock
        assert third.getheader("Connection") != "close"
        # And a request that asks to close is answered, and the connection closed
        last = _list_tables(connection, Connection="close")
        assert last.status == 200 and last.getheader("Connection") == "close"
        last.read()
        assert connection.sock is None
    finally:
        connection.close()
