"""No blocking call on Swift's cooperative pool: a lint over the daemon's sources.

The pool has one thread per core; two blocked threads on a two-core machine stopped the daemon for good (issue 10:
synchronous GRDB reads waiting for readers that only a pool thread could hand back). Every call that can block is
listed here by file, with where it runs and why that is not the pool. A new one fails this test until it is either
moved off the pool (`BlockingWork.run`, a thread of its own, GRDB's async API) and listed with its reason, or
removed. Debug builds back this up at run time: the blocking functions call `BlockingWork.assertOffCooperativePool`.

    python3 -m pytest -q Tests/IntegrationTests/test_blocking_calls.py
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What can block a thread, by name. Patterns see code only (comments and string literals are blanked first).
PATTERNS: dict[str, re.Pattern[str]] = {
    # GRDB's synchronous database access waits for a connection (a semaphore) and for the disk.
    "sync GRDB access": re.compile(
        r"\b(pool|queue|target|writer|reader)\.(read|write|writeWithoutTransaction|barrierWriteWithoutTransaction"
        r"|unsafeRead|unsafeReentrantRead|inDatabase|backup|close)\s*[({]"
    ),
    "migration": re.compile(r"\bmigrator\.migrate\("),
    "sleep": re.compile(r"(?<![\w.])(usleep|sleep|nanosleep)\(|\bThread\.sleep"),
    "semaphore or lock wait": re.compile(
        r"\bDispatchSemaphore\b|\bDispatchGroup\b|\bNSCondition\b|\bNSLock\b|\bpthread_(mutex|cond)_\w+\("
        r"|\.wait\((\)|timeout:|wallTimeout:)"
    ),
    "DispatchQueue.sync": re.compile(r"\.sync\s*[({]"),
    "system call that waits": re.compile(
        r"(?<![\w.])(read|write|poll|connect|accept|recv|recvfrom|waitpid|posix_spawn)\("
    ),
    "libcurl transfer": re.compile(r"\bcurl_easy_perform\("),
    "file I/O": re.compile(
        r"\bFileManager\.default\.(contents|createDirectory|contentsOfDirectory|removeItem|copyItem|moveItem)\b"
        r"|\bData\(contentsOf:|\bString\(contentsOfFile:|\.write\(toFile:|\breadDataToEndOfFile\b"
    ),
}

# Every blocking call in the daemon's sources: (file, pattern) -> (how many, where it runs and why that is safe).
ALLOWED: dict[tuple[str, str], tuple[int, str]] = {
    ("Sources/SlotStore/SQLiteBookingStore.swift", "sync GRDB access"): (
        6,
        "init (open, pragma, migration check), backup and close: blocking by contract; the daemon calls them "
        "through BlockingWork.run (SQLiteBookingStore.open, the backup route, StoreService)",
    ),
    ("Sources/SlotStore/SQLiteBookingStore.swift", "migration"): (1, "in init, see above"),
    ("Sources/SlotStore/SQLiteStoreDump.swift", "sync GRDB access"): (
        2,
        "readBlocking (a read-only queue's one read, then close): slotctl migrate, through read(path:)'s "
        "BlockingWork.run",
    ),
    ("Sources/SlotStore/SQLiteBookingStore+Operations.swift", "sync GRDB access"): (
        2,
        "BackupVerifier.integrityCheck: runs inside the backup route's BlockingWork.run",
    ),
    ("Sources/SlotClient/UnixSocketConnection.swift", "system call that waits"): (
        2,
        "connect and recv of the shared Unix-socket client: slotctl calls them on its main thread (a synchronous "
        "program, no pool); async callers (the tests) reach them only through UnixHTTPClient+Async.swift, which "
        "runs each call on a Thread of its own",
    ),
    ("Sources/SlotProviders/Curl.swift", "libcurl transfer"): (
        2,
        "through BlockingWork.run (Curl.perform, Curl.sendMail), or the watchdog's own thread (performOnThisThread); "
        "asserts off the pool",
    ),
    ("Sources/SlotProviders/Exec/PluginProcess.swift", "system call that waits"): (
        5,
        "read: the plugin's stdout/stderr reader Threads; write and poll: the plugin's stdin DispatchQueue; "
        "posix_spawn: through BlockingWork.run (asserts); waitpid: the reader Thread after stdout ends",
    ),
    ("Sources/SlotProviders/Exec/PluginProcess.swift", "sleep"): (
        1,
        "the stdout reader Thread waits briefly for the exit status after stdout ends",
    ),
    ("Sources/SlotProviders/Exec/PluginProcess.swift", "semaphore or lock wait"): (
        1,
        "spawnLock (NSLock) around pipe+fcntl+posix_spawn, held only inside BlockingWork.run",
    ),
    ("Sources/SlotProviders/ProviderSettings.swift", "file I/O"): (
        1,
        "reads a provider's secret file while the configuration is built, before the service group starts",
    ),
    ("Sources/SlotStorePostgres/PostgresPasswordFile.swift", "file I/O"): (
        1,
        "a PostgreSQL password file: the daemon reads it with slotd.yaml, by main before the service group starts; "
        "slotctl migrate (synchronous) before it connects",
    ),
    ("Sources/SlotRuleFiles/RuleDirectory.swift", "file I/O"): (
        1,
        "rule files: slotctl (synchronous), the daemon through BlockingWork.run (RuleHolder); asserts off the pool",
    ),
    ("Sources/SlotServer/Configuration/ConfigurationFile.swift", "file I/O"): (
        1,
        "slotd.yaml, read by main before the service group starts",
    ),
    ("Sources/SlotServer/Daemon.swift", "file I/O"): (
        1,
        "creates the database directory once in buildDaemon, before serving",
    ),
    ("Sources/SlotServer/HTTP/OperationsRoutes.swift", "file I/O"): (
        1,
        "reads the backup copy inside the backup route's BlockingWork.run",
    ),
    ("Sources/SlotServer/HTTP/UnixSocketPath.swift", "file I/O"): (
        1,
        "creates the socket's directory in buildDaemon, before serving",
    ),
    ("Sources/SlotServer/HTTP/UnixSocketPath.swift", "system call that waits"): (
        1,
        "connect: asks whether a live daemon holds the socket, in buildDaemon before serving",
    ),
    ("Sources/SlotServer/Web/WebToken.swift", "file I/O"): (
        2,
        "WebSecretFile reads (or creates) the web link secret once in buildDaemon, through BlockingWork.run "
        "(loadCustomerLinks); asserts off the pool",
    ),
    ("Sources/SlotServer/Web/Admin/AdminRuleEditor.swift", "file I/O"): (
        5,
        "the admin page's rule editor lists, reads and keeps rule files (and their history) only inside "
        "BlockingWork.run closures (files, save, restore, keep/versions); writeAtomically asserts off the pool",
    ),
    ("Sources/SlotServer/Rules/RuleDirectoryWatcher.swift", "system call that waits"): (
        3,
        "poll and read on the inotify descriptor, on the watcher's own Thread; one byte written to its wake pipe "
        "on shutdown, which an empty pipe takes at once",
    ),
    ("Sources/SlotServer/Systemd/Watchdog.swift", "semaphore or lock wait"): (
        4,
        "the watchdog's own Thread waits for its next turn and for the in-process check, with deadlines",
    ),
}

CHECKED = ["Sources", "Plugins"]
# slotctl is a synchronous command-line program: no cooperative pool to block.
SKIPPED = ["Sources/slotctl/"]


def code_only(text: str) -> str:
    """The text with comments and string literals blanked (line structure kept)."""
    text = re.sub(r'"""[\s\S]*?"""', lambda m: "\n" * m.group(0).count("\n"), text)
    text = re.sub(r"/\*[\s\S]*?\*/", lambda m: "\n" * m.group(0).count("\n"), text)
    lines = []
    for line in text.split("\n"):
        line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
        lines.append(line.split("//", 1)[0])
    return "\n".join(lines)


def findings() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for folder in CHECKED:
        for path in sorted((ROOT / folder).rglob("*.swift")):
            relative = path.relative_to(ROOT).as_posix()
            if any(relative.startswith(skip) for skip in SKIPPED):
                continue
            text = path.read_text()
            imports_glibc = re.search(r"^\s*import Glibc\b", text, re.MULTILINE) is not None
            for number, line in enumerate(code_only(text).split("\n"), start=1):
                for name, pattern in PATTERNS.items():
                    for match in pattern.finditer(line):
                        # A declaration of our own named like a blocking call (`func sleep`) is not a call.
                        if line[: match.start()].rstrip().endswith("func"):
                            continue
                        # An awaited GRDB call is the async API, which queues instead of blocking.
                        if name == "sync GRDB access" and "await" in line[: match.start()]:
                            continue
                        if name == "system call that waits":
                            # System calls come from Glibc; a function of our own named `read` is not one.
                            if not imports_glibc:
                                continue
                            if match.group(1) == "waitpid" and "WNOHANG" in line:
                                continue
                        # An awaited `wait` or `sleep` is an async one, which suspends instead of blocking.
                        if name in ("semaphore or lock wait", "sleep") and "await" in line[: match.start()]:
                            continue
                        found.setdefault((relative, name), []).append(f"{relative}:{number}: {line.strip()}")
    return found


def test_every_blocking_call_is_known_and_off_the_pool():
    found = findings()
    problems = []
    for key, places in sorted(found.items()):
        expected = ALLOWED.get(key, (0, ""))[0]
        if len(places) != expected:
            problems.append(
                f"{key[0]}: {len(places)} × {key[1]} (listed: {expected}) — move it off the cooperative pool "
                f"(BlockingWork.run, a thread of its own, GRDB's async API) and list it in ALLOWED with the reason:\n"
                + "\n".join(f"    {place}" for place in places)
            )
    for key, (expected, _) in sorted(ALLOWED.items()):
        if expected and key not in found:
            problems.append(f"{key[0]}: listed {expected} × {key[1]}, found none — update ALLOWED")
    assert not problems, "\n".join(problems)


def test_the_lint_sees_what_it_looks_for():
    """The patterns catch the calls that hung the daemon, and skip the async forms and comments."""
    sample = code_only(
        "let rows = try pool.read { db in x }\n"
        "let rows = try await pool.read { db in x }\n"
        "usleep(10_000)\n"
        "// pool.read { in a comment }\n"
        'let text = "pool.read {"'
    ).split("\n")
    hits = [any(p.search(line) and not (n == "sync GRDB access" and "await" in line) for n, p in PATTERNS.items())
            for line in sample]
    assert hits == [True, False, True, False, False]
