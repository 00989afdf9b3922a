"""schemathesis against openapi.yaml in its short mode (RELIABILITY.md; the long mode is
`scripts/apifuzz --examples 200`)."""

from __future__ import annotations

import random

from reliability import apifuzz


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(daemon, tmp_path):
    result = apifuzz.run_schemathesis(daemon, tmp_path, max_examples=10, seed=random.randrange(1 << 31))
    print(result.summary())
    assert result.returncode == 0, result.output[-20000:]
    assert result.operations >= 25 and result.test_cases >= 300, result.output[-3000:]
    assert daemon.client.get("/v1/health").status == 200
