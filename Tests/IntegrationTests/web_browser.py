"""The browser tests' harness: the real slotd with a `web:` section, nginx in front of its web listener, localstripe
for deposits, and headless Chromium (Debian's `chromium` + `chromium-driver`) driven by selenium.

- `Site`: one daemon + nginx + localstripe, the customer's address being nginx's (`site.url`); the daemon's
  `public_url` is that address too, so the links the API hands out (manage, .ics) go through nginx.
- `Browser`: a headless Chromium with waits on conditions (`until`), screenshots of a step at phone (360×780) and
  desktop (1280×900) width into `build-artifacts/screenshots/<test>/`, an axe-core check (no serious or critical
  violation), and a check that the page's own scripts logged no error.

scripts/setup --tests installs Chromium, chromedriver, nginx, selenium and axe-selenium-python when missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ROOT, DaemonFactory, start_with_stripe, wait_for
from test_web import WebClient, free_port

SCREENSHOTS = ROOT / "build-artifacts" / "screenshots"
PHONE = (360, 780)
DESKTOP = (1280, 900)
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WEBHOOK_SECRET = "whsec_slotd_web_page_test"
PUBLISHABLE_KEY = "pk_test_slotd_web_page"


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# MARK: - nginx


# The shop's nginx configuration from the README's example, when present: the test runs its proxy settings
# (upstream, headers, the live feeds' unbuffered locations), with a plain loopback listener instead of TLS.
EXAMPLE = ROOT / "Examples" / "reverse-proxy" / "nginx-booking-page.conf"
TLS_ONLY = ("listen ", "http2 ", "server_name ", "ssl_", "add_header Strict-Transport-Security")

# Used when the example is absent: the same proxying in a few lines.
FALLBACK_SITE = """
upstream slotd_web {{ server 127.0.0.1:{upstream}; keepalive 16; }}
server {{
    listen 127.0.0.1:{port};
    location / {{
        proxy_pass http://slotd_web;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        # Server-Sent Events (the slot feed, a booking's events) pass through as they are written.
        proxy_buffering off;
        proxy_read_timeout 1h;
    }}
}}
"""


def top_level_blocks(text: str) -> list[str]:
    """The `name … { … }` blocks at the top of an nginx file, comments dropped."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    blocks, current, depth = [], [], 0
    for line in lines:
        if depth == 0 and not line.strip():
            continue
        current.append(line)
        depth += line.count("{") - line.count("}")
        if depth == 0 and current:
            blocks.append("\n".join(current))
            current = []
    return blocks


def site_config(upstream: int, port: int) -> str:
    """The example's upstream and HTTPS server, pointed at `upstream` and listening on 127.0.0.1:`port` in plain
    HTTP; the fallback when the example is missing."""
    if not EXAMPLE.exists():
        return FALLBACK_SITE.format(upstream=upstream, port=port)
    blocks = top_level_blocks(EXAMPLE.read_text())
    upstreams = [b for b in blocks if b.lstrip().startswith("upstream ")]
    https = [b for b in blocks if b.lstrip().startswith("server") and "listen 443" in b]
    if len(upstreams) != 1 or len(https) != 1:
        raise RuntimeError(f"{EXAMPLE}: expected one upstream and one `listen 443` server block")
    upstream_block = re.sub(r"server\s+\S+:\d+;", f"server 127.0.0.1:{upstream};", upstreams[0])
    server_lines = [line for line in https[0].splitlines() if not line.strip().startswith(TLS_ONLY)]
    server_lines.insert(1, f"    listen 127.0.0.1:{port};")
    return upstream_block + "\n" + "\n".join(server_lines) + "\n"


NGINX_CONF = """# Written by web_browser.py: nginx as the shop's reverse proxy in front of slotd's web listener.
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    gzip off;
{site}
}}
"""


class Nginx:
    """Debian's nginx on a free loopback port, proxying everything to `upstream` (slotd's web listener)."""

    def __init__(self, directory: Path, upstream: int, port: int):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(NGINX_CONF.format(dir=self.dir, site=site_config(upstream, port)))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([nginx, "-p", str(self.dir), "-c", str(self.conf), "-e", str(self.dir /
                                      "error.log")], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: self.proc.poll() is not None or listening(self.port), timeout=15, what="nginx to listen")
        finally:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}:\n{self.log()}")

    def log(self) -> str:
        try:
            return (self.dir / "error.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# MARK: - The shop: slotd + nginx + localstripe


class WebListenerMissing(RuntimeError):
    """This slotd build has no web listener: it refuses the `web:` section as an unknown key."""


def web_section(listen_port: int, public_url: str, stripe_js_url: str) -> str:
    return (
        "web:\n"
        f"  listen: 127.0.0.1:{listen_port}\n"
        f"  public_url: {public_url}\n"
        "  secret_file: web.secret\n"
        "  trusted_proxies: [127.0.0.1]\n"
        '  title: "Salon Mehmet"\n'
        '  accent_colour: "#0a7d5a"\n'
        "  locale: de\n"
        "  legal: { imprint: https://shop.example/imprint, privacy: https://shop.example/privacy }\n"
        f"  stripe_js_url: {stripe_js_url}\n"
        f"  stripe_publishable_key: {PUBLISHABLE_KEY}\n"
        # The tests book many times from one address in a few seconds.
        "  limits: { bookings_per_minute_per_ip: 1000, token_lookups_per_minute_per_ip: 1000 }\n"
    )


class Site:
    """The shop as a customer reaches it: nginx at `url` → slotd's web listener; deposits at localstripe."""

    def __init__(self, slotd: str, stripe_base: str, card_on_file: bool = False, providers: str = "",
                 extra_config: str = ""):
        """`providers` are more entries of the configuration's `providers:` (beside stripe), `extra_config` more
        top-level sections."""
        self.factory = DaemonFactory(slotd)
        self.web_port = free_port()
        self.nginx_dir = Path(tempfile.mkdtemp(prefix="slotd-nginx-", dir="/tmp"))
        self.nginx: Nginx | None = None
        # nginx's port is chosen before slotd starts: slotd's public_url names it.
        nginx_port = free_port()
        self.url = f"http://127.0.0.1:{nginx_port}"
        self.daemon = start_with_stripe(self.factory, api_base=stripe_base, webhook_secret=WEBHOOK_SECRET,
                                        start=False)
        config = self.daemon.config
        config.write_text(config.read_text().replace("providers:\n", "providers:\n" + providers, 1)
                          + web_section(self.web_port, self.url, f"{stripe_base}/js.stripe.com/v3/") + extra_config)
        if card_on_file:
            # No-show protection: a booking without a deposit saves the customer's card (policies.card_on_file).
            shop = self.daemon.rules / "shop.yaml"
            shop.write_text(shop.read_text().replace("policies:\n", "policies:\n  card_on_file: true\n", 1))
        try:
            self.daemon.start()
            wait_for(lambda: listening(self.web_port), timeout=15, what="slotd's web listener")
            self.nginx = Nginx(self.nginx_dir, self.web_port, nginx_port)
        except BaseException as error:
            self.stop()
            if "unknown key 'web'" in str(error):
                raise WebListenerMissing(str(error)) from error
            raise
        self.client = self.daemon.client
        # The public API through nginx, every answer checked against openapi-public.yaml.
        self.web = WebClient(nginx_port)

    def path(self, url: str) -> str:
        """A link the API handed out (it names nginx's address) as a path for `self.web`."""
        assert url.startswith(self.url + "/"), f"{url} is not on the shop's public address {self.url}"
        return url[len(self.url):]

    def stop(self) -> list[str]:
        if self.nginx:
            self.nginx.stop()
        shutil.rmtree(self.nginx_dir, ignore_errors=True)
        return self.factory.cleanup()


# MARK: - The browser


class Browser:
    """Headless Chromium through chromedriver, with the checks every browser test makes."""

    def __init__(self, test_name: str):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         f"--window-size={DESKTOP[0]},{DESKTOP[1]}", "--lang=en-GB"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.driver.set_window_size(*DESKTOP)
        self.shots = SCREENSHOTS / test_name
        shutil.rmtree(self.shots, ignore_errors=True)
        self.shots.mkdir(parents=True, exist_ok=True)
        self.console: list[dict] = []

    def open(self, url: str) -> None:
        self.driver.get(url)
        self.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "true",
                   "the page to be ready")

    def until(self, condition, what: str, timeout: float = 20.0):
        """Waits for `condition(driver)` to be truthy and returns it; fails naming `what` (and the page's log). An
        element the page re-rendered while the condition looked at it counts as "not yet"."""
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05, ignored_exceptions=(
                NoSuchElementException, StaleElementReferenceException)).until(condition)
        except Exception as error:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; page log:\n"
                                 + "\n".join(e["message"] for e in self.logs())) from error

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def visible(self, css: str, what: str | None = None):
        return self.until(lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None),
                          what or css)

    def click(self, css: str, what: str | None = None) -> None:
        """Clicks the first displayed match of `css`, again if the page re-rendered it under the click (the time
        list is redrawn by the live feed)."""
        def clicked(driver) -> bool:
            element = next((e for e in driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None)
            if element is None:
                return False
            element.click()
            return True

        self.until(clicked, what or f"{css} to click")

    def shoot(self, step: str) -> None:
        """Screenshots of the current step at phone and desktop width; at phone width nothing may scroll sideways."""
        for label, (width, height) in (("phone", PHONE), ("desktop", DESKTOP)):
            self.driver.set_window_size(width, height)
            self.until(lambda d: d.execute_script("return innerWidth") == width, f"the window to be {width} wide")
            if label == "phone":
                overflow = self.driver.execute_script("return document.documentElement.scrollWidth - innerWidth")
                assert overflow <= 0, f"{step}: the page is {overflow}px wider than a 360px phone screen"
            self.driver.save_screenshot(str(self.shots / f"{step}-{label}.png"))

    def assert_accessible(self, step: str) -> None:
        """axe-core on the page as it is: no serious or critical violation (the report is kept beside the shots)."""
        axe = Axe(self.driver)
        axe.inject()
        results = axe.run()
        (self.shots / f"{step}-axe.json").write_text(json.dumps(results["violations"], indent=1))
        bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
        assert not bad, f"{step}: accessibility violations:\n{axe.report(bad)}"

    def logs(self) -> list[dict]:
        self.console += self.driver.get_log("browser")
        return self.console

    def script_errors(self) -> list[str]:
        """Errors the page's own scripts logged (not a failed request of the network's, which tests see anyway)."""
        return [e["message"] for e in self.logs() if e["level"] == "SEVERE" and "/assets/" in e["message"]]

    def quit(self) -> None:
        self.driver.quit()


os.environ.setdefault("SE_AVOID_STATS", "true")  # selenium: no usage statistics from the test machine
