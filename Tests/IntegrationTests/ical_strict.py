"""A small, strict RFC 5545 reader for the calendar tests: the second opinion beside the `icalendar` package.

`icalendar` is lenient (it unfolds anything, accepts bare LF, unescaped commas); this reader refuses whatever RFC 5545
forbids in what slotd writes, and says where: CRLF line ends only, physical lines of at most 75 octets that are each
valid UTF-8 on their own (a fold never splits a multi-octet character), continuation lines starting with one space,
content-line grammar, BEGIN/END nesting, the properties each component requires exactly once, TEXT escaping, UTC
DATE-TIME values, DURATION values, and unique UIDs. It returns the calendar as nested `Component`s with unescaped
TEXT values, so a test can compare what both readers saw.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field


class ICalError(AssertionError):
    """What is wrong and on which physical line."""


@dataclass
class Property:
    name: str
    params: dict[str, str]
    value: str  # as written (escaped); `text` unescapes it
    line: int

    @property
    def text(self) -> str:
        return unescape_text(self.value, self.line)


@dataclass
class Component:
    name: str
    properties: list[Property] = field(default_factory=list)
    components: list["Component"] = field(default_factory=list)

    def all(self, name: str) -> list[Property]:
        return [p for p in self.properties if p.name == name]

    def one(self, name: str) -> Property:
        found = self.all(name)
        if len(found) != 1:
            raise ICalError(f"{self.name} has {len(found)} {name} properties, not exactly one")
        return found[0]

    def get(self, name: str) -> Property | None:
        found = self.all(name)
        if len(found) > 1:
            raise ICalError(f"{self.name} has {len(found)} {name} properties, at most one is allowed")
        return found[0] if found else None

    def walk(self, name: str) -> list["Component"]:
        found = [self] if self.name == name else []
        for child in self.components:
            found += child.walk(name)
        return found


NAME = re.compile(r"^(?:[A-Za-z0-9-]+)$")
PARAM = re.compile(r'^([A-Za-z0-9-]+)=("[^"\x00-\x08\x0a-\x1f\x7f]*"|[^";:,\x00-\x08\x0a-\x1f\x7f]*)$')
UTC_DATE_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$")
DURATION = re.compile(r"^[+-]?P(?:\d+W|(?:\d+D)?(?:T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S))?)$")
TEXT_PROPERTIES = {"SUMMARY", "DESCRIPTION", "LOCATION", "X-WR-CALNAME", "X-WR-TIMEZONE", "PRODID", "COMMENT"}
ONCE_IN_EVENT = {"UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "STATUS", "SUMMARY", "DESCRIPTION", "LOCATION",
                 "URL", "CREATED", "LAST-MODIFIED"}
STATUSES = {"TENTATIVE", "CONFIRMED", "CANCELLED"}


def unescape_text(value: str, line: int) -> str:
    out, index = [], 0
    while index < len(value):
        char = value[index]
        if char == "\\":
            if index + 1 >= len(value) or value[index + 1] not in "\\;,nN":
                raise ICalError(f"line {line}: a backslash must escape \\\\, ;, , or n in TEXT: {value!r}")
            nxt = value[index + 1]
            out.append("\n" if nxt in "nN" else nxt)
            index += 2
            continue
        if char in ";,":
            raise ICalError(f"line {line}: an unescaped {char!r} in a single TEXT value: {value!r}")
        out.append(char)
        index += 1
    return "".join(out)


def utc(value: str, line: int) -> dt.datetime:
    match = UTC_DATE_TIME.match(value)
    if not match:
        raise ICalError(f"line {line}: {value!r} is not a UTC DATE-TIME (YYYYMMDDTHHMMSSZ)")
    try:
        return dt.datetime(*map(int, match.groups()), tzinfo=dt.timezone.utc)
    except ValueError as error:
        raise ICalError(f"line {line}: {value!r} is no real date and time: {error}") from None


def physical_lines(data: bytes) -> list[str]:
    if not data.endswith(b"\r\n"):
        raise ICalError("the text does not end with CRLF")
    raw = data[:-2].split(b"\r\n")
    for number, line in enumerate(raw, 1):
        if b"\r" in line or b"\n" in line:
            raise ICalError(f"line {number}: a bare CR or LF (every line must end in CRLF)")
        if len(line) > 75:
            raise ICalError(f"line {number}: {len(line)} octets, more than 75 (fold it)")
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ICalError(f"line {number}: not valid UTF-8 on its own (a fold split a character?): {error}")
    return [line.decode("utf-8") for line in raw]


def content_lines(data: bytes) -> list[tuple[int, str]]:
    unfolded: list[tuple[int, str]] = []
    for number, line in enumerate(physical_lines(data), 1):
        if line.startswith(" ") or line.startswith("\t"):
            if not unfolded:
                raise ICalError(f"line {number}: a continuation line before any content line")
            start, text = unfolded[-1]
            unfolded[-1] = (start, text + line[1:])
        elif line == "":
            raise ICalError(f"line {number}: an empty line")
        else:
            unfolded.append((number, line))
    return unfolded


def parse_line(number: int, line: str) -> Property:
    # The name and parameters end at the first colon outside a quoted parameter value.
    in_quote, colon = False, -1
    for index, char in enumerate(line):
        if char == '"':
            in_quote = not in_quote
        elif char == ":" and not in_quote:
            colon = index
            break
    if colon < 0:
        raise ICalError(f"line {number}: no ':' in content line {line!r}")
    head, value = line[:colon], line[colon + 1:]
    if any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in value):
        raise ICalError(f"line {number}: a control character in the value of {head!r}")
    parts = head.split(";")
    name = parts[0].upper()
    if not NAME.match(name):
        raise ICalError(f"line {number}: {parts[0]!r} is not a property name")
    params: dict[str, str] = {}
    for part in parts[1:]:
        match = PARAM.match(part)
        if not match:
            raise ICalError(f"line {number}: {part!r} is not a parameter")
        params[match.group(1).upper()] = match.group(2).strip('"')
    return Property(name, params, value, number)


def parse(data: bytes) -> Component:
    """The calendar in `data`, or ICalError naming the first thing RFC 5545 forbids."""
    stack: list[Component] = []
    root: Component | None = None
    for number, line in content_lines(data):
        prop = parse_line(number, line)
        if root is not None and not stack:
            raise ICalError(f"line {number}: content after END:VCALENDAR")
        if prop.name == "BEGIN":
            component = Component(prop.value.upper())
            if stack:
                stack[-1].components.append(component)
            elif component.name != "VCALENDAR":
                raise ICalError(f"line {number}: the text must start with BEGIN:VCALENDAR")
            else:
                root = component
            stack.append(component)
        elif prop.name == "END":
            if not stack or stack[-1].name != prop.value.upper():
                open_name = stack[-1].name if stack else "anything"
                raise ICalError(f"line {number}: END:{prop.value} does not close {open_name}")
            stack.pop()
        else:
            if not stack:
                raise ICalError(f"line {number}: a property outside any component")
            stack[-1].properties.append(prop)
    if root is None or stack:
        raise ICalError("the calendar is not closed with END:VCALENDAR")
    check(root)
    return root


def check(calendar: Component) -> None:
    if calendar.one("VERSION").value != "2.0":
        raise ICalError("VERSION must be 2.0")
    calendar.one("PRODID")
    if (scale := calendar.get("CALSCALE")) and scale.value != "GREGORIAN":
        raise ICalError("CALSCALE must be GREGORIAN")
    if refresh := calendar.get("REFRESH-INTERVAL"):
        if refresh.params.get("VALUE") != "DURATION":
            raise ICalError(f"line {refresh.line}: REFRESH-INTERVAL needs VALUE=DURATION (RFC 7986)")
        duration(refresh)
    if ttl := calendar.get("X-PUBLISHED-TTL"):
        duration(ttl)
    uids: set[str] = set()
    for component in calendar.components:
        for prop in component.properties:
            if prop.name in TEXT_PROPERTIES:
                prop.text  # raises on bad escaping
        if component.name != "VEVENT":
            continue
        for name in ONCE_IN_EVENT:
            component.get(name)
        uid = component.one("UID").value
        if uid in uids:
            raise ICalError(f"UID {uid} twice in one calendar")
        uids.add(uid)
        utc(component.one("DTSTAMP").value, component.one("DTSTAMP").line)
        start = utc(component.one("DTSTART").value, component.one("DTSTART").line)
        if end := component.get("DTEND"):
            if utc(end.value, end.line) <= start:
                raise ICalError(f"line {end.line}: DTEND is not after DTSTART")
        if sequence := component.get("SEQUENCE"):
            if not re.fullmatch(r"\d+", sequence.value):
                raise ICalError(f"line {sequence.line}: SEQUENCE must be a non-negative integer")
        if status := component.get("STATUS"):
            if status.value not in STATUSES:
                raise ICalError(f"line {status.line}: STATUS {status.value} is not one of {sorted(STATUSES)}")


def duration(prop: Property) -> None:
    if not DURATION.match(prop.value):
        raise ICalError(f"line {prop.line}: {prop.value!r} is not a DURATION value")
