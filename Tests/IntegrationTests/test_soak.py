"""The soak in its short mode, about 30 s (RELIABILITY.md; the long mode is `scripts/soak --minutes 10`)."""

from __future__ import annotations

import random

from reliability import soak


def test_short_soak_has_no_unexpected_error(daemon, tmp_path):
    report = soak.run_soak(daemon, seconds=30, warmup=10, sample_every=1.0, seed=random.randrange(1 << 31))
    print("\n".join(report.lines()))
    assert not report.tally.failures, report.tally.failures[:20]
    for route in ("GET /v1/slots", "POST /v1/bookings", "POST /v1/bookings/{id}/cancel", "GET /v1/events (headers)",
                  "slow GET /v1/slots"):
        assert any(200 <= code < 300 for code in report.tally.statuses[route]), (route, report.tally.statuses)
    assert len(report.samples) >= 20
    assert report.plot(tmp_path / "rss.png").read_bytes().startswith(b"\x89PNG")
