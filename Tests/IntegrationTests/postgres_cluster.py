"""The PostgreSQL cluster the integration tests run slotd on (issue 16).

`scripts/test` starts one throwaway cluster for the whole run (scripts/postgres-cluster) and exports its URL as
SLOTD_TEST_POSTGRES; each test makes its own database in it. Without the variable the PostgreSQL tests are skipped
with the reason. psql (postgresql-client) reads the database.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

ENV = "SLOTD_TEST_POSTGRES"


def server_url() -> str:
    url = os.environ.get(ENV, "")
    if not url:
        pytest.skip(f"{ENV} is not set: the PostgreSQL tests need a cluster (scripts/test starts one and sets it)")
    return url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def psql(url: str, sql: str) -> list[list[str]]:
    """Runs one statement with psql; returns the rows as lists of text fields."""
    out = subprocess.run(["psql", url, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"psql failed: {out.stderr}"
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def fresh_database() -> str:
    """A new, empty database on the test cluster; its URL."""
    url = server_url()
    name = "slotd_it_" + uuid.uuid4().hex
    psql(url, f"CREATE DATABASE {name}")
    return with_database(url, name)


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class OwnCluster:
    """A cluster of a test's own (scripts/postgres-cluster), for a test that stops and restarts PostgreSQL."""

    def __init__(self, directory: str):
        self.dir = directory
        self.script = os.path.join(ROOT, "scripts", "postgres-cluster")
        self.url = ""

    def start(self) -> str:
        server_url()  # skipped like the others when the run has no PostgreSQL
        out = subprocess.run([self.script, "start", self.dir], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        self.url = out.stdout.strip()
        return self.url

    def pg_ctl(self, *args: str) -> None:
        owner = ["runuser", "-u", "slotd-pgtest", "--"] if os.geteuid() == 0 else []
        binary = subprocess.run(["sh", "-c", "ls -d /usr/lib/postgresql/*/bin | tail -1"], capture_output=True,
                                text=True).stdout.strip() + "/pg_ctl"
        out = subprocess.run(owner + [binary, "--pgdata", self.dir + "/data", *args], capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr

    def stop_server(self) -> None:
        self.pg_ctl("--mode=fast", "--wait", "stop")

    def start_server(self) -> None:
        self.pg_ctl("--log", self.dir + "/postgres.log", "--wait", "start")

    def remove(self) -> None:
        subprocess.run([self.script, "stop", self.dir], capture_output=True, timeout=120)
