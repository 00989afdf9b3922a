"""The contract checker itself (openapi_contract.py): a body that matches more than one branch of a `oneOf` is the
document's mistake and fails the test that received it, naming the branches (issue 15)."""

from __future__ import annotations

import copy
import json

from openapi_contract import ResponseContract


def document_with(schema: dict, components: dict | None = None) -> ResponseContract:
    return ResponseContract({
        "openapi": "3.1.0",
        "paths": {"/x": {"get": {"responses": {"200": {
            "description": "x", "content": {"application/json": {"schema": schema}}}}}}},
        "components": {"schemas": components or {}},
    }, "urn:test:document")


def check(contract: ResponseContract, body) -> str | None:
    return contract.violation("GET", "/x", 200, "application/json", json.dumps(body).encode())


def test_a_body_matching_two_branches_of_a_one_of_fails_naming_them():
    contract = document_with(
        {"oneOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}, {"type": "string"}]},
        {"A": {"type": "object", "required": ["a"]}, "B": {"type": "object", "required": ["b"]}})
    assert check(contract, {"a": 1}) is None
    assert check(contract, {"b": 1}) is None
    problem = check(contract, {"a": 1, "b": 2})
    assert problem is not None and "matches more than one branch of a oneOf (branches 1, 2)" in problem, problem
    assert "matches more than one branch" not in (check(contract, 5) or ""), "no branch at all is another failure"
    assert check(contract, 5) is not None


def test_a_nested_ambiguous_one_of_is_found_too():
    contract = document_with({"type": "object", "properties": {"items": {"type": "array", "items": {
        "oneOf": [{"type": "object"}, {"type": "object", "required": ["id"]}]}}}})
    problem = check(contract, {"items": [{"id": "1"}]})
    assert problem is not None and "(branches 1, 2) at $.items[0]" in problem, problem


def test_the_booking_list_and_the_conflict_list_are_told_apart():
    """GET /v1/bookings answers a plain list or, with `conflicts=true`, a list with conflicts: each body matches
    exactly one branch of the document's `oneOf`; without the plain branch's `not: {required: [conflicts]}` (the
    document's mistake this guards against) a list with conflicts matched both."""
    contract = ResponseContract.load()
    plain = {"bookings": []}
    with_conflicts = {"rules_version": "r1", "bookings": [], "conflicts": []}
    for body in (plain, with_conflicts):
        assert contract.violation("GET", "/v1/bookings", 200, "application/json", json.dumps(body).encode()) is None

    document = copy.deepcopy(contract.document)
    schema = document["paths"]["/v1/bookings"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    schema["oneOf"][0] = {"$ref": "#/components/schemas/BookingList"}
    problem = ResponseContract(document, contract.uri).violation(
        "GET", "/v1/bookings", 200, "application/json", json.dumps(with_conflicts).encode())
    assert problem is not None and "matches more than one branch of a oneOf (branches 1, 2)" in problem, problem
