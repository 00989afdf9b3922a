"""The OpenAPI document as a contract the integration tests enforce.

`Client.request` (and `Stream` per line) hands every response to `CONTRACT.violation(...)`: the path template,
method, status (exact, `4XX`, then `default`) and content type must be documented, and a JSON body (or each NDJSON
line) must match the schema documented for them (JSON Schema 2020-12, OpenAPI 3.1's dialect, formats checked).
A path or method the document does not have (404 and 405 tests) must still answer with the documented Problem.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlsplit

import jsonschema
import yaml
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

RESOURCES = Path(__file__).resolve().parents[2] / "Sources" / "SlotServer" / "Resources"
DOCUMENT_PATH = RESOURCES / "openapi.yaml"
PUBLIC_DOCUMENT_PATH = RESOURCES / "openapi-public.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
PROBLEM_POINTER = "/components/responses/Problem"


def escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def is_ambiguous_one_of(error: jsonschema.ValidationError) -> bool:
    """Whether `error` is a `oneOf` that failed because several branches matched (none matching leaves the
    branches' own errors in `context`; several matching leaves it empty)."""
    return error.validator == "oneOf" and not error.context


def matching_branches(error: jsonschema.ValidationError, registry: Registry, uri: str) -> list[int]:
    """The indexes of the `oneOf` branches `error.instance` matches (`uri`: the document the branches are in)."""
    return [index for index, branch in enumerate(error.validator_value)
            if jsonschema.Draft202012Validator(absolute_references(branch, uri), registry=registry)
            .is_valid(error.instance)]


def absolute_references(schema, uri: str):
    """`schema` with the document's local `$ref`s (`#/components/…`) made absolute against `uri`, to validate it on
    its own."""
    if isinstance(schema, dict):
        return {key: (uri + value if key == "$ref" and isinstance(value, str) and value.startswith("#")
                      else absolute_references(value, uri)) for key, value in schema.items()}
    if isinstance(schema, list):
        return [absolute_references(item, uri) for item in schema]
    return schema


class ResponseContract:
    """Checks responses against one OpenAPI document and counts what it checked."""

    def __init__(self, document: dict, uri: str, siblings: dict[str, dict] | None = None):
        """`uri` names the document; `siblings` (URI → document) are the documents its `$ref`s reach, e.g. the
        public document's `openapi.yaml#/components/...`."""
        self.document = document
        self.uri = uri
        resources = {uri: document, **(siblings or {})}
        self.registry = Registry().with_resources(
            (name, Resource.from_contents(value, default_specification=DRAFT202012))
            for name, value in resources.items())
        self.validators: dict[str, jsonschema.Draft202012Validator] = {}
        self.checked: Counter[str] = Counter()
        self.operations_seen: set[str] = set()
        # Literal templates first, so `/v1/rules/check` never matches a `{param}` sibling; among templates with
        # parameters the one with more literal text first, so `/b/{token}.ics` wins over `/b/{token}`.
        templates = sorted(document.get("paths", {}), key=lambda template: (
            "{" in template, -len(re.sub(r"\{[^}]*\}", "", template)), template))
        self.routes = [(re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(t)) + "$"), t)
                       for t in templates]

    @classmethod
    def load(cls, path: Path = DOCUMENT_PATH) -> "ResponseContract":
        """The document at `path`, with the other OpenAPI documents beside it for its references."""
        siblings = {other.as_uri(): yaml.safe_load(other.read_text())
                    for other in path.parent.glob("openapi*.yaml") if other != path}
        return cls(yaml.safe_load(path.read_text()), path.as_uri(), siblings)

    @property
    def operations(self) -> set[str]:
        return {f"{method.upper()} {template}" for template, item in self.document["paths"].items()
                for method in METHODS if method in item}

    # MARK: - Checking

    def violation(self, method: str, target: str, status: int, content_type: str, body: bytes) -> str | None:
        """Why this response breaks the document, or None; `target` may carry a query string."""
        path = urlsplit(target).path
        response_pointer, where = self.response_pointer(method, path, status)
        if response_pointer is None:
            return f"{method} {path} → {status}: {where}"
        if response_pointer == PROBLEM_POINTER and where.startswith("undocumented"):
            self.checked["undocumented path or method, answered with a problem"] += 1
        response = self.resolve(response_pointer)
        content = response.get("content")
        if not content:
            return None if not body else f"{method} {path} → {status}: a body where {where} documents none"
        if content_type not in content:
            return (f"{method} {path} → {status}: content type {content_type!r} is not documented for {where} "
                    f"(documented: {', '.join(content)})")
        schema_pointer = f"{response_pointer}/content/{escape_pointer_token(content_type)}/schema"
        if content_type == "application/x-ndjson":
            for number, line in enumerate(body.splitlines(), start=1):
                if line.strip():
                    problem = self.schema_violation(schema_pointer, line, f"line {number}")
                    if problem:
                        return f"{method} {path} → {status} ({content_type}, {where}): {problem}"
                    self.checked["NDJSON lines"] += 1
            return None
        if content_type == "application/yaml":
            # Checked as the value it parses to, as a YAML-reading client (schemathesis) sees it.
            problem = self.schema_violation(schema_pointer, json.dumps(yaml.safe_load(body)).encode(), "body")
            if problem:
                return f"{method} {path} → {status} ({content_type}, {where}): {problem}"
            self.checked["YAML bodies"] += 1
            return None
        if not is_json(content_type):
            self.checked[f"other bodies ({content_type}), content type checked"] += 1
            return None
        problem = self.schema_violation(schema_pointer, body, "body")
        if problem:
            return f"{method} {path} → {status} ({content_type}, {where}): {problem}"
        self.checked["JSON bodies"] += 1
        return None

    def line_violation(self, target: str, status: int, content_type: str, value) -> str | None:
        """One line of a streamed NDJSON answer, already parsed."""
        return self.violation("GET", target, status, content_type, json.dumps(value).encode())

    def response_pointer(self, method: str, path: str, status: int) -> tuple[str | None, str]:
        """The JSON pointer of the documented response, and words naming it (or why there is none)."""
        template = next((template for pattern, template in self.routes if pattern.match(path)), None)
        operation = self.document["paths"][template].get(method.lower()) if template else None
        if operation is None:
            # A 404 or 405 test asks for what the document does not have on purpose: the answer is still a Problem.
            what = "undocumented path" if template is None else f"undocumented method on {template}"
            return (PROBLEM_POINTER, what) if status >= 400 else (None, f"{what} answered {status}")
        self.operations_seen.add(f"{method.upper()} {template}")
        responses = operation.get("responses", {})
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in responses:
                pointer = f"/paths/{escape_pointer_token(template)}/{method.lower()}/responses/{key}"
                return self.follow_reference(pointer), f"{method.upper()} {template} response {key}"
        return None, f"status {status} is not documented for {method.upper()} {template} (no default either)"

    def follow_reference(self, pointer: str) -> str:
        """The pointer a `$ref: "#/..."` at `pointer` leads to (a shared response), or `pointer` itself."""
        node = self.resolve(pointer)
        while "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = self.resolve(pointer)
        return pointer

    def resolve(self, pointer: str):
        node = self.document
        for token in pointer.lstrip("/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        return node

    def request_body_violation(self, method: str, template: str, value,
                               content_type: str = "application/json") -> str | None:
        """Why the document refuses this request body, or None when it accepts it."""
        pointer = (f"/paths/{escape_pointer_token(template)}/{method.lower()}/requestBody/content/"
                   f"{escape_pointer_token(content_type)}/schema")
        return self.schema_violation(pointer, json.dumps(value).encode(), "request body")

    def schema_violation(self, schema_pointer: str, raw: bytes, what: str) -> str | None:
        try:
            value = json.loads(raw)
        except ValueError as error:
            return f"{what} is not JSON ({error}): {raw[:200]!r}"
        validator = self.validators.get(schema_pointer)
        if validator is None:
            reference = {"$ref": f"{self.uri}#{quote(schema_pointer, safe='/~')}"}
            validator = jsonschema.Draft202012Validator(
                reference, registry=self.registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
            self.validators[schema_pointer] = validator
        errors = list(validator.iter_errors(value))
        # A `oneOf` the body matches more than once is the document's mistake (its branches overlap), whatever
        # else fails: name it first, with the branches, so it is fixed in the document, not in the server.
        ambiguous = next((error for error in errors if is_ambiguous_one_of(error)), None)
        if ambiguous is not None:
            branches = ", ".join(str(index + 1) for index in matching_branches(ambiguous, self.registry, self.uri))
            return (f"{what} matches more than one branch of a oneOf (branches {branches}) at "
                    f"{ambiguous.json_path}: make the branches exclusive (`required`/`not`, a discriminator)\n"
                    f"  schema: #{schema_pointer} → {'/'.join(str(part) for part in ambiguous.schema_path)}\n"
                    f"  value: {json.dumps(value)[:500]}")
        error = best_match(errors)
        if error is None:
            return None
        message = error.message if len(error.message) <= 300 else error.message[:300] + "…"
        return (f"{what} fails `{error.validator}` at {error.json_path}: {message}\n"
                f"  schema: #{schema_pointer}\n  value: {json.dumps(value)[:500]}")

    def summary(self) -> list[str]:
        if not self.checked:
            return []
        total = sum(self.checked.values())
        lines = [f"OpenAPI contract: {total} responses (or stream lines) matched the document"]
        lines += [f"  {count:6d} {what}" for what, count in sorted(self.checked.items())]
        unexercised = sorted(self.operations - self.operations_seen)
        lines.append(f"  {len(self.operations) - len(unexercised)} of {len(self.operations)} documented operations "
                     f"exercised through the test client" + (f"; not: {', '.join(unexercised)}" if unexercised else ""))
        return lines


CONTRACT = ResponseContract.load()
PUBLIC_CONTRACT = ResponseContract.load(PUBLIC_DOCUMENT_PATH)
