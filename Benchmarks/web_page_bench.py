#!/usr/bin/env python3
"""The booking page's first load: prints figures, asserts nothing.

    python3 Benchmarks/web_page_bench.py [--slotd PATH] [--loads N]

Uses `SLOTD` or `--slotd`, else `.build/release/slotd` when built, else `.build/debug/slotd`. Starts a fresh slotd
with a `web:` section on a loopback port (the integration tests' rules; no proxy in between) and opens `/` in
headless Chromium (Debian's `chromium` + `chromium-driver`, as the browser tests) N times with an empty cache:

  1. bytes: what the first load transfers without Stripe.js (which the page loads only at the deposit step), as
     the browser's Resource Timing reports it (`transferSize`: headers + body as sent, gzip on; `encodedBodySize`:
     the bodies alone), split into the page's files (HTML/CSS/JS/SVG) and its API calls; next to the files' own
     size and their size after `gzip -9`, computed here from Sources/SlotServer/Resources/web (goal ≤ 100 kB);
  2. time to interactive: the `slotd:ready` performance mark, set when the first step is rendered and its buttons
     answer (after the shop, services and staff have been fetched), from navigation start; with
     DOMContentLoaded and the load event beside it (median and p90 over the loads).
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "Tests" / "IntegrationTests" / "rules"
WEB = ROOT / "Sources" / "SlotServer" / "Resources" / "web"
GOAL_BYTES = 100 * 1000


def default_slotd() -> str:
    if os.environ.get("SLOTD"):
        return os.environ["SLOTD"]
    release = ROOT / ".build" / "release" / "slotd"
    return str(release if release.exists() else ROOT / ".build" / "debug" / "slotd")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_slotd(slotd: str, directory: Path, extra_config: str = "") -> tuple[subprocess.Popen, str]:
    """slotd with a `web:` section on a free loopback port (plus `extra_config`, top-level YAML); its base URL."""
    port = free_port()
    shutil.copytree(RULES, directory / "rules")
    (directory / "slotd.yaml").write_text(
        "web:\n"
        f"  listen: 127.0.0.1:{port}\n"
        f"  public_url: http://127.0.0.1:{port}\n"
        "  secret_file: web.secret\n"
        '  title: "Salon Mehmet"\n'
        "  locale: de\n" + extra_config)
    log = open(directory / "slotd.log", "wb")
    proc = subprocess.Popen([slotd, "--config", str(directory / "slotd.yaml"), "--rules", str(directory / "rules"),
                             "--db", str(directory / "slotd.sqlite"), "--socket", str(directory / "slotd.sock")],
                            stdout=log, stderr=log, cwd=directory)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"slotd exited with {proc.returncode}:\n{(directory / 'slotd.log').read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)  # a bounded wait for the listener; figures are taken only after it answers
    proc.kill()
    sys.exit("slotd's web listener did not come up within 30 s")


def stop_slotd(proc: subprocess.Popen, directory: Path) -> None:
    """SIGTERM (kill after 15 s) and remove its directory."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(directory, ignore_errors=True)


def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=360,780"):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


MEASURE = """
const done = arguments[0];
const ready = () => performance.getEntriesByName('slotd:ready').length > 0;
const report = () => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource').map(r => ({
    name: r.name, transfer: r.transferSize, encoded: r.encodedBodySize, decoded: r.decodedBodySize}));
  done({
    ready: performance.getEntriesByName('slotd:ready')[0].startTime,
    dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
    document: {name: nav.name, transfer: nav.transferSize, encoded: nav.encodedBodySize,
               decoded: nav.decodedBodySize},
    resources});
};
const wait = () => (ready() && performance.getEntriesByType('navigation')[0].loadEventEnd > 0)
  ? report() : setTimeout(wait, 10);
wait();
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slotd", default=default_slotd())
    parser.add_argument("--loads", type=int, default=20)
    args = parser.parse_args()

    files = sorted(p for p in WEB.iterdir() if p.is_file())
    raw = sum(p.stat().st_size for p in files)
    gzipped = sum(len(gzip.compress(p.read_bytes(), 9)) for p in files)
    print(f"page files: {len(files)} files, {raw} bytes raw, {gzipped} bytes after gzip -9 "
          f"(goal <= {GOAL_BYTES}: {'met' if gzipped <= GOAL_BYTES else 'NOT met'})")

    directory = Path(tempfile.mkdtemp(prefix="slotd-pagebench-", dir="/tmp"))
    proc, base = start_slotd(args.slotd, directory)
    driver = chromium()
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        samples = []
        for _ in range(args.loads + 1):  # the first load warms the daemon and the browser; it is not counted
            driver.get("about:blank")
            driver.get(base + "/")
            driver.set_script_timeout(30)
            samples.append(driver.execute_async_script(MEASURE))
        samples = samples[1:]
        last = samples[-1]
        entries = [last["document"]] + last["resources"]
        stripe = [e for e in entries if "stripe" in e["name"]]
        entries = [e for e in entries if "stripe" not in e["name"]]
        assets = [e for e in entries if "/public/v1/" not in e["name"]]
        calls = [e for e in entries if "/public/v1/" in e["name"]]
        total = sum(e["transfer"] for e in entries)
        print(f"first load without Stripe.js: {len(entries)} requests, {total} bytes transferred "
              f"(goal <= {GOAL_BYTES}: {'met' if total <= GOAL_BYTES else 'NOT met'}); "
              f"Stripe.js requests on first load: {len(stripe)}")
        for label, group in (("page files", assets), ("API calls", calls)):
            print(f"  {label}: {len(group)} requests, {sum(e['transfer'] for e in group)} bytes transferred, "
                  f"{sum(e['encoded'] for e in group)} bytes of bodies as sent, "
                  f"{sum(e['decoded'] for e in group)} bytes decoded")
        for e in entries:
            print(f"    {e['name'].replace(base, '')}: {e['transfer']} transferred, {e['encoded']} body, "
                  f"{e['decoded']} decoded")
        for label, key in (("time to interactive (slotd:ready mark)", "ready"), ("DOMContentLoaded", "dcl"),
                           ("load event", "load")):
            values = [s[key] for s in samples]
            print(f"{label}: median {statistics.median(values):.1f} ms, p90 {percentile(values, 0.9):.1f} ms "
                  f"over {len(values)} loads with an empty cache")
    finally:
        driver.quit()
        stop_slotd(proc, directory)


if __name__ == "__main__":
    main()
