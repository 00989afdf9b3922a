"""The JSON Schema of rule files (Rules/schema/slotd-rules.schema.json) accepts every example and valid fixture
and rejects invalid documents. Run: python3 -m pytest Tests/IntegrationTests/test_rules_schema.py"""

import json
import pathlib

import jsonschema
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = ROOT / "Rules"
FIXTURES = ROOT / "Tests" / "SlotRulesTests" / "Fixtures"
SCHEMA = json.loads((RULES / "schema" / "slotd-rules.schema.json").read_text())


class RuleYAMLLoader(yaml.SafeLoader):
    """PyYAML's safe loader without the timestamp rule, so dates stay text as they are for slotd and editors."""


RuleYAMLLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def documents(path):
    """The YAML documents of a rule file; a fixture may hold several files, each after a `#=== name` line."""
    text = path.read_text()
    parts = [text] if not text.startswith("#=== ") else [
        part.split("\n", 1)[1] if "\n" in part else "" for part in text.split("#=== ")[1:]
    ]
    return [yaml.load(part, Loader=RuleYAMLLoader) or {} for part in parts]


def validator():
    return jsonschema.Draft202012Validator(SCHEMA)


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_every_key_has_a_description():
    missing = []

    def walk(node, path):
        if isinstance(node, dict):
            for name, child in node.get("properties", {}).items():
                referenced = SCHEMA["$defs"].get(child.get("$ref", "").rsplit("/", 1)[-1], {})
                if "description" not in child and "description" not in referenced:
                    missing.append(f"{path}/{name}")
            for key, child in node.items():
                walk(child, f"{path}/{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{path}/{index}")

    walk(SCHEMA, "")
    assert missing == []


EXAMPLES = sorted(RULES.glob("*.yaml"))
VALID_FIXTURES = sorted(
    path for path in FIXTURES.glob("*.rules.yaml")
    if (FIXTURES / path.name.replace(".rules.yaml", ".compiled.txt")).exists()
)


def test_there_are_examples_and_valid_fixtures():
    assert len(EXAMPLES) >= 3
    assert len(VALID_FIXTURES) >= 3


@pytest.mark.parametrize("path", EXAMPLES + VALID_FIXTURES, ids=lambda path: path.name)
def test_valid_rule_files_match_the_schema(path):
    for document in documents(path):
        errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator().iter_errors(document)]
        assert errors == [], f"{path.name}: {errors}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_examples_point_editors_at_the_schema(path):
    first_line = path.read_text().splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=schema/slotd-rules.schema.json"


INVALID = {
    "unknown section": "servics: []",
    "unknown key in shop": "shop: {name: A, timezone: Europe/Berlin, slotstep: 15m}",
    "shop without a time zone": "shop: {name: A}",
    "duration in words": "shop: {name: A, timezone: Europe/Berlin, slot_step: 15 mins}",
    "duration without unit": "policies: {hold: '15'}",
    "hours as a list": "hours: [Mo-Fr 09:00-18:00]",
    "service without price": "services: [{id: cut, name: Cut, duration: 30m}]",
    "service with duration and segments": (
        "services: [{id: cut, name: Cut, duration: 30m, segments: active 30m, price: 20}]"),
    "bad id": "services: [{id: Hair Cut, name: Cut, duration: 30m, price: 20}]",
    "money with a comma": "services: [{id: cut, name: Cut, duration: 30m, price: '25,50'}]",
    "negative price": "services: [{id: cut, name: Cut, duration: 30m, price: -5}]",
    "resource count zero": "resources: [{id: chair, count: 0}]",
    "staff without services": "staff: [{id: ana, name: Ana}]",
    "staff with no services": "staff: [{id: ana, name: Ana, services: []}]",
    "override with hours and closed": "overrides: [{date: 2026-12-24, hours: '09:00-12:00', closed: true}]",
    "override relative to Easter (yearly dates are fine since issue 14)": "overrides: [{date: easter+1, closed: true}]",
    "staff terms with an unknown key": "staff: [{id: ana, name: Ana, services: [{id: cut, prise: 3}]}]",
    "holiday with a bad form": "holidays: [24.12.2026]",
    "the whole file a list": "- shop: {name: A, timezone: Europe/Berlin}",
}


@pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
def test_invalid_documents_are_rejected(text):
    document = yaml.load(text, Loader=RuleYAMLLoader)
    assert list(validator().iter_errors(document)) != []
