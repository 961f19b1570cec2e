"""/healthz, /readyz, request ids and JSON logs."""

import json
import logging
from unittest import mock

import pytest
from django.db import OperationalError

from tracker.observability import JsonFormatter, RequestIdFilter


def test_healthz_answers_without_touching_the_database(client):
    # No database mark: any query here would fail the test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.django_db
def test_readyz_is_ok_when_the_database_answers(client):
    assert client.get("/readyz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_does_not(client):
    with mock.patch(
        "tracker.observability.connection.cursor", side_effect=OperationalError("down")
    ):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "error": "OperationalError"}


def test_every_response_carries_a_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_a_valid_incoming_request_id_is_kept_and_a_hostile_one_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"})["X-Request-ID"] == "abc-123"
    assert (
        client.get("/healthz", headers={"X-Request-ID": "<script>"})["X-Request-ID"] != "<script>"
    )


def test_log_lines_are_json_with_the_request_id(client):
    from tracker.observability import request_id_var

    record = logging.LogRecord("tracker.access", logging.INFO, __file__, 1, "request", None, None)
    record.status = 200
    token = request_id_var.set("req-42")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert (
        entry["request_id"] == "req-42" and entry["status"] == 200 and entry["message"] == "request"
    )
