"""Bad input gets a clear problem+json answer, writes nothing, and the daemon keeps serving."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import threading
import time

import pytest

from conftest import Client, UnixHTTPConnection, assert_problem, future_day, shop_today, wait_for, wall
from openapi_contract import CONTRACT

DAY = future_day(5)


@pytest.fixture
def untouched(daemon):
    """Asserts after the test that nothing was written and the daemon still answers."""
    yield daemon
    assert daemon.booking_count() == 0
    assert daemon.sql("SELECT count(*) FROM events")[0][0] == 0
    assert daemon.client.get("/v1/health").status == 200


def book_body(**overrides):
    body = {"service": "haircut", "staff": "anna", "start": wall(DAY, "10:00"), "customer": {"name": "X"}}
    body.update(overrides)
    return body


@pytest.mark.parametrize("raw", [
    b"{", b"not json", b"[1, 2, 3]", b"", b"\xff\xfe\x00", b'{"service": "haircut",}', b"null",
])
def test_malformed_json_is_400(untouched, raw):
    resp = untouched.client.request("POST", "/v1/bookings", body=raw, headers={"Content-Type": "application/json"})
    assert_problem(resp, (400, 422), ("malformed_json", "validation_failed"))


@pytest.mark.parametrize("body, field", [
    (book_body(service=42), "service"),
    (book_body(start=1700000000), "start"),
    (book_body(customer="Ben"), "customer"),
    (book_body(customer={"name": ["a"]}), "customer.name"),
    (book_body(staff=True), "staff"),
])
def test_wrong_types_are_rejected_naming_the_field(untouched, body, field):
    resp = untouched.client.post("/v1/bookings", json=body)
    problem = assert_problem(resp, (400, 422), ("malformed_json", "validation_failed"))
    text = problem["detail"] + " ".join(f["field"] for f in problem.get("fields") or [])
    assert field.split(".")[0] in text, problem


@pytest.mark.parametrize("body, field", [
    (book_body(service="perm"), "service"),
    (book_body(staff="zoe"), "staff"),
    (book_body(service="shave", staff="ben"), "staff"),  # ben does not do shaves: the staff is wrong, not the time
    (book_body(customer={"name": ""}), "customer.name"),
    (book_body(customer={}), "customer.name"),
    (book_body(start="tomorrow at ten"), "start"),
    (book_body(start=wall(DAY, "25:00")), "start"),
    ({"staff": "anna", "start": wall(DAY, "10:00"), "customer": {"name": "X"}}, "service"),
])
def test_invalid_values_are_422_naming_the_field(untouched, body, field):
    problem = assert_problem(untouched.client.post("/v1/bookings", json=body), 422, "validation_failed")
    assert [f["field"] for f in problem["fields"]] == [field], problem


@pytest.mark.parametrize("body, field", [
    (book_body(service=""), "service"),
    (book_body(service=None, services=[]), "services"),
    (book_body(service=None, services=["haircut", ""]), "services"),
    (book_body(start=""), "start"),
    (book_body(customer={"name": ""}), "customer.name"),
    (book_body(customer={"name": "   "}), "customer.name"),
    (book_body(customer={"name": "X", "phone": "0" * 41}), "customer.phone"),
    (book_body(customer={"name": "X", "email": "nope"}), "customer.email"),
    (book_body(customer={"name": "X", "email": "@example.org"}), "customer.email"),
    (book_body(customer={"name": "X", "email": "anna@"}), "customer.email"),
    (book_body(variant=""), "variant"),
    ({"staff": "anna", "start": wall(DAY, "10:00"), "customer": {"name": "X"}}, "service"),
    # Control characters are refused, not stripped (issue 15: a name with NUL was stored).
    (book_body(customer={"name": "Ann\u0000Lee"}), "customer.name"),
    (book_body(customer={"name": "Ann\nLee"}), "customer.name"),
    (book_body(customer={"name": "Ann", "phone": "+49\u0007"}), "customer.phone"),
    (book_body(customer={"name": "Ann", "email": "a\u001b@example.org"}), "customer.email"),
    (book_body(notes="bring \u0000 nothing"), "notes"),
])
def test_the_openapi_document_refuses_what_the_server_refuses(untouched, body, field):
    body = {key: value for key, value in body.items() if value is not None}
    assert CONTRACT.request_body_violation("POST", "/v1/bookings", body), f"openapi.yaml accepts {body}"
    problem = assert_problem(untouched.client.post("/v1/bookings", json=body), 422, "validation_failed")
    assert [f["field"].split("[")[0] for f in problem["fields"]] == [field], problem


def test_the_openapi_document_accepts_a_booking_the_server_accepts(daemon):
    body = book_body(services=["haircut"], customer={"name": " Ann ", "email": "ann@example.org", "phone": ""},
                     notes="Line one\nLine two\twith a tab")
    assert CONTRACT.request_body_violation("POST", "/v1/bookings", body) is None
    assert daemon.client.post("/v1/bookings", json=body).status == 201


def test_a_staff_member_who_does_not_perform_the_service_is_named(untouched):
    problem = assert_problem(untouched.client.post("/v1/bookings", json=book_body(service="shave", staff="ben")),
                             422, "validation_failed")
    reason = problem["fields"][0]["reason"]
    assert "ben does not perform 'shave'" in reason and "anna" in reason, problem


def test_times_in_the_past_are_refused(untouched):
    day = (shop_today() - dt.timedelta(days=1)).isoformat()
    problem = assert_problem(untouched.client.post("/v1/bookings", json=book_body(start=wall(day, "10:00"))),
                             (409, 422), ("slot_unavailable", "validation_failed"))
    assert problem["detail"]


@pytest.mark.parametrize("time_of_day, staff", [("08:00", "anna"), ("18:00", "anna"), ("17:45", "anna"),
                                                ("09:00", "ben"), ("12:00", "ben"), ("10:07", "anna")])
def test_starts_outside_hours_in_breaks_or_off_grid_are_409(untouched, time_of_day, staff):
    resp = untouched.client.post("/v1/bookings", json=book_body(start=wall(DAY, time_of_day), staff=staff))
    assert_problem(resp, (409, 422), ("slot_unavailable", "validation_failed"))


def test_huge_body_is_413_and_nothing_is_read_into_memory(untouched):
    big = b'{"service": "haircut", "notes": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    try:
        resp = untouched.client.request("POST", "/v1/bookings", body=big,
                                        headers={"Content-Type": "application/json"})
    except (BrokenPipeError, ConnectionResetError):
        return  # the daemon may close early after refusing; it must keep serving (checked by the fixture)
    assert_problem(resp, 413, "payload_too_large")


def test_a_claimed_huge_content_length_is_refused(untouched):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(untouched.socket)
    sock.sendall(b"POST /v1/bookings HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 10000000000\r\n\r\n{")
    reply = b""
    try:
        while b"\r\n\r\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    finally:
        sock.close()
    assert reply == b"" or reply.split(b" ")[1] in (b"400", b"413"), reply[:200]


def test_too_many_notes_and_names_are_422(untouched):
    resp = untouched.client.post("/v1/bookings", json=book_body(notes="n" * 5000))
    assert_problem(resp, 422, "validation_failed")
    resp = untouched.client.post("/v1/bookings", json=book_body(customer={"name": "n" * 500}))
    assert_problem(resp, 422, "validation_failed")


@pytest.mark.parametrize("path, missing", [
    (f"/v1/slots?from={DAY}", ["service"]),
    ("/v1/slots?service=haircut", ["from"]),
    ("/v1/slots", ["service", "from"]),
    ("/v1/slots?service=haircut&watch=true", ["from"]),
    (f"/v1/slots/explain?service=haircut&at={DAY}T10:00", ["staff"]),
    ("/v1/slots/explain?staff=anna", ["service", "at"]),
])
def test_a_missing_required_query_parameter_is_400_naming_it(untouched, path, missing):
    problem = assert_problem(untouched.client.get(path), 400, "bad_request")
    assert [f["field"] for f in problem["fields"]] == missing, problem
    assert all(name in problem["detail"] for name in missing), problem


def test_bad_query_parameters_are_400(untouched):
    client = untouched.client
    # present but wrong: 422 naming the parameter (a missing one is 400, above)
    for path, field in [("/v1/slots?service=haircut&from=yesterday", "from"),
                        (f"/v1/slots?service=nope&from={DAY}", "service"),
                        (f"/v1/slots?service=haircut&staff=zoe&from={DAY}", "staff"),
                        (f"/v1/slots?service=haircut&from={DAY}&to=2099-01-01", "to"),
                        ("/v1/slots/explain?service=haircut&staff=anna&at=soon", "at")]:
        problem = assert_problem(client.get(path), 422, "validation_failed")
        assert [f["field"] for f in problem["fields"]] == [field], (path, problem)
    assert_problem(client.get("/v1/events?since=minus-one"), (400, 422))


def test_slow_clients_do_not_block_others(untouched):
    stalled = []
    for _ in range(10):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(untouched.socket)
        # half a request line, half a body: then nothing
        sock.sendall(b"POST /v1/bookings HTTP/1.1\r\nHost: localhost\r\nContent-Length: 200\r\n\r\n{\"serv")
        stalled.append(sock)
    half_line = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    half_line.connect(untouched.socket)
    half_line.sendall(b"GET /v1/hea")
    stalled.append(half_line)
    try:
        started = time.monotonic()
        for _ in range(20):
            assert Client(untouched.socket, timeout=5).get("/v1/health").status == 200
        assert time.monotonic() - started < 5
    finally:
        for sock in stalled:
            sock.close()


def test_a_client_that_disconnects_mid_request_writes_nothing(untouched):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(untouched.socket)
    body = b'{"service": "haircut", "staff": "anna", "start": "' + wall(DAY, "10:00").encode() + b'"'
    sock.sendall(b"POST /v1/bookings HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 500\r\n\r\n" + body)
    sock.close()
    # The request is over once the server has answered it (or failed it) and counted it; only then does
    # `untouched` look for what it wrote.
    wait_for(lambda: re.search(r'^slotd_http_requests_total\{route="/v1/bookings",method="POST",[^}]*\} [1-9]',
                               untouched.client.get("/v1/metrics").text, re.MULTILINE),
             what="the cut-off request to end")


def test_garbage_on_the_socket_is_answered_or_dropped(untouched):
    for junk in (b"\x00\x01\x02\x03\r\n\r\n", b"HELLO\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(5)
        sock.connect(untouched.socket)
        sock.sendall(junk)
        try:
            sock.recv(1024)
        except (ConnectionResetError, TimeoutError):
            pass
        sock.close()


def test_a_cancel_reason_with_a_control_character_is_refused_and_cancels_nothing(daemon):
    booking = daemon.client.book(wall(DAY, "11:00")).json()["id"]
    reason = {"reason": "no\u0000show"}
    assert CONTRACT.request_body_violation("POST", "/v1/bookings/{id}/cancel", reason), "openapi.yaml accepts it"
    problem = assert_problem(daemon.client.post(f"/v1/bookings/{booking}/cancel", json=reason), 422,
                             "validation_failed")
    assert [f["field"] for f in problem["fields"]] == ["reason"], problem
    assert daemon.client.get(f"/v1/bookings/{booking}").json()["status"] == "confirmed"
    assert daemon.client.post(f"/v1/bookings/{booking}/cancel", json={"reason": "ill\nwill call"}).status == 200


def test_head_answers_a_get_routes_status_and_headers_without_a_body(untouched):
    connection = UnixHTTPConnection(untouched.socket)
    connection.request("HEAD", "/v1/health")
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type", "").startswith("application/json")
    assert response.read() == b""
    connection.close()


@pytest.mark.parametrize("method, path, allow", [
    ("DELETE", "/v1/bookings", "GET, HEAD, POST"),
    ("PUT", "/_ping", "GET, HEAD"),
    ("PUT", "/v1/bookings/bk_whatever", "GET, HEAD, PATCH"),
    ("GET", "/v1/bookings/bk_whatever/cancel", "POST"),
])
def test_a_known_path_with_another_method_is_405_naming_the_allowed_ones(untouched, method, path, allow):
    response = untouched.client.request(method, path)
    problem = assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow, response.headers
    assert method in problem["detail"], problem


def test_an_unknown_path_stays_404(untouched):
    assert_problem(untouched.client.request("DELETE", "/v1/nothing-here"), 404, "not_found")


CHUNKED_HEAD = (b"POST /v1/bookings HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")


@pytest.mark.parametrize("body, why", [
    (b"zz\r\nabc\r\n0\r\n\r\n", "a chunk size that is not hexadecimal"),
    (b"ffffffffffffffffff\r\nabc\r\n0\r\n\r\n", "a chunk size past 64 bits"),
    (b"-5\r\nabc\r\n0\r\n\r\n", "a negative chunk size"),
    (b"3\r\nabc\r\n0\r\n" + b"X-Trailer: y\r\n" * 50_000 + b"\r\n", "50,000 trailer lines"),
    (b"3\r\nabc\r\n", "a connection that ends before the last chunk"),
], ids=["not-hex", "past-64-bits", "negative", "50k-trailers", "cut-short"])
def test_a_malformed_chunked_body_is_the_clients_400_and_writes_nothing(untouched, body, why):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(untouched.socket)

    def send() -> None:
        # The daemon answers before it has read 700 kB of trailers, and then reads no more of them.
        try:
            sock.sendall(CHUNKED_HEAD + body)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    sender = threading.Thread(target=send)
    sender.start()
    answer = b""
    # The answer, as far as its Content-Length says (the daemon may keep the connection open after it).
    while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < int(
            re.search(rb"(?i)content-length: *(\d+)", answer.partition(b"\r\n\r\n")[0]).group(1)):
        chunk = sock.recv(65536)
        assert chunk, (why, answer[:300])
        answer += chunk
    sock.shutdown(socket.SHUT_RDWR)
    sender.join(10)
    sock.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), (why, answer[:300])
    problem = json.loads(payload)
    assert problem["code"] == "bad_request" and "could not be read" in problem["detail"], (why, problem)
    assert "internal error" not in untouched.log(), why
