"""The admin page in a real browser (issue 13): headless Chromium through nginx, as test_web_page.py does.

Logs in (and fails to, until the lockout), sees a booking made over the Unix socket appear without a reload,
cancels one, moves one to the other barber, books a walk-in, edits a rule with a typo and sees the error at its
line, fixes it, sees the preview list the conflicting booking, saves, and sees the day view change. Screenshots at
phone (360×780) and tablet (768×1024) width go to build-artifacts/screenshots/<test>/; axe-core finds no serious or
critical violation on the login, the day, the week and the rule editor.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from admin_site import admin_config, password_hash, free_port, with_chairs
from conftest import SHOP_ZONE, DaemonFactory, future_day, wait_for, wall
from test_web_page import browser  # noqa: F401 — the booking page's browser fixture (checks script errors)
from web_browser import Browser, Nginx, listening

PHONE = (360, 780)
TABLET = (768, 1024)
BEN_HOURS = "hours: Mo-Su 00:00-24:00"
USERS = [("mehmet", "admin", "kamm-und-schere", "anna"), ("tom", "staff", "tom-arbeitet-hier", "ben")]


class AdminSite:
    """slotd with the admin page and rule editing, behind nginx at `url` (its `public_url`)."""

    def __init__(self, slotd: str, slotctl: str, round_the_clock: bool = True):
        self.factory = DaemonFactory(slotd)
        self.nginx_dir = Path(tempfile.mkdtemp(prefix="slotd-admin-nginx-", dir="/tmp"))
        self.nginx: Nginx | None = None
        web_port, nginx_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{nginx_port}"
        users = [(n, r, password_hash(slotctl, p), s) for n, r, p, s in USERS]
        self.daemon = self.factory(
            config=admin_config(web_port, users, public_url=self.url + "/",
                                extra="  trusted_proxies: [127.0.0.1]\n  rules_editing: true\n"), start=False)
        if round_the_clock:
            # Open round the clock with no notice, so "walk-in now" works whenever the suite runs.
            shop = self.daemon.rules / "shop.yaml"
            shop.write_text(shop.read_text().replace("hours: Mo-Su 09:00-18:00", "hours: 24/7")
                            .replace("min_notice: 1h", "min_notice: 0m"))
            staff = self.daemon.rules / "staff.yaml"
            staff.write_text(staff.read_text().replace(
                "    hours: Mo-Su 10:00-16:00\n    breaks:\n      - Mo-Su 12:00-12:30\n", f"    {BEN_HOURS}\n"))
            assert BEN_HOURS in staff.read_text()
        with_chairs(self.daemon.rules)
        try:
            self.daemon.start()
            wait_for(lambda: listening(web_port), timeout=15, what="slotd's web listener")
            self.nginx = Nginx(self.nginx_dir, web_port, nginx_port)
        except BaseException:
            self.stop()
            raise
        self.client = self.daemon.client

    def stop(self) -> list[str]:
        if self.nginx:
            self.nginx.stop()
        shutil.rmtree(self.nginx_dir, ignore_errors=True)
        return self.factory.cleanup()


@pytest.fixture(scope="module")
def site(slotd_binary, slotctl_binary):
    shop = AdminSite(slotd_binary, slotctl_binary)
    yield shop
    problems = shop.stop()
    assert not problems, "\n".join(problems)


def shoot(browser: Browser, step: str, focus: str | None = None) -> None:
    """The step at phone and tablet width, scrolled to `focus` (a CSS selector) when given; at phone width the page
    itself never scrolls sideways."""
    for label, (width, height) in (("phone", PHONE), ("tablet", TABLET)):
        browser.driver.set_window_size(width, height)
        browser.until(lambda d: d.execute_script("return innerWidth") == width, f"the window to be {width} wide")
        if focus:
            browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", browser.find(focus))
        if label == "phone":
            overflow = browser.driver.execute_script("return document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, f"{step}: the page is {overflow}px wider than a 360px phone screen"
        browser.driver.save_screenshot(str(browser.shots / f"{step}-{label}.png"))
    browser.driver.set_window_size(*TABLET)


def log_in(browser: Browser, name: str, password: str) -> None:
    browser.visible("#login-name").clear()
    browser.find("#login-name").send_keys(name)
    browser.find("#login-password").clear()
    browser.find("#login-password").send_keys(password)
    browser.click("#login-form button[type=submit]")


def block(booking: str) -> str:
    return f'.block[data-booking="{booking}"]'


def column_of(browser: Browser, booking: str) -> str:
    return browser.find(block(booking)).find_element(By.XPATH, "..").get_attribute("data-staff")


def show_day(browser: Browser, date: str) -> None:
    """Picks `date` in the date field, as a person does with the picker."""
    browser.driver.execute_script(
        "const d = document.getElementById('date'); d.value = arguments[0]; d.dispatchEvent(new Event('change'))",
        date)
    browser.until(lambda d: d.find_element(By.ID, "date").get_attribute("value") == date, f"the day {date}")


def set_rule_text(browser: Browser, text: str) -> None:
    area = browser.find("#rule-text")
    browser.driver.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))", area, text)


def test_the_barbers_day_live_with_every_action_and_the_rule_editor(site, browser):
    today = dt.datetime.now(SHOP_ZONE).date().isoformat()
    browser.driver.set_window_size(*TABLET)
    browser.open(site.url + "/admin/")
    browser.visible("#login-form")
    browser.assert_accessible("01-login")
    shoot(browser, "01-login")

    # Five wrong passwords lock the name; even the right one is then refused, with the wait in words.
    for _ in range(5):
        log_in(browser, "tom", "wrong-password")
        browser.until(lambda d: "wrong name or password" in d.find_element(By.ID, "login-error").text,
                      "the refusal")
        browser.driver.execute_script("document.getElementById('login-error').textContent = ''")
    log_in(browser, "tom", "tom-arbeitet-hier")
    browser.until(lambda d: "Too many attempts" in d.find_element(By.ID, "login-error").text, "the lockout")
    shoot(browser, "02-locked")

    log_in(browser, "mehmet", "kamm-und-schere")
    browser.visible(".day", "the day view")
    browser.until(lambda d: d.find_element(By.ID, "connection").text == "Live", "the live badge")

    # A booking made at the counter (the Unix socket) appears without a reload.
    soon = dt.datetime.now(SHOP_ZONE) + dt.timedelta(minutes=30)
    start = soon.replace(minute=soon.minute // 15 * 15, second=0, microsecond=0)
    counter = site.client.book(start.strftime("%Y-%m-%dT%H:%M"), staff="anna", name="Counter Customer")
    assert counter.status == 201, counter
    counter_id = counter.json()["id"]
    if start.date().isoformat() != today:
        show_day(browser, start.date().isoformat())
    browser.visible(block(counter_id), "the counter's booking in the day view")
    assert "Counter Customer" in browser.find(block(counter_id)).text
    browser.assert_accessible("03-day")
    shoot(browser, "03-day", focus=block(counter_id))

    # Move it to the other barber.
    browser.click(block(counter_id))
    browser.visible("#booking-dialog[open]", "the booking dialog")
    shoot(browser, "04-booking")
    Select(browser.find("#move-staff")).select_by_value("ben")
    browser.click("#move-form button[type=submit]")
    browser.until(lambda d: column_of(browser, counter_id) == "ben", "the booking in Ben's column")
    assert site.client.get(f"/v1/bookings/{counter_id}").json()["staff"] == "ben"

    # Cancel it: the dialog says what the policy charges (inside 24 h: half the price).
    browser.click(block(counter_id))
    browser.until(lambda d: "Cancelling now costs 14.00 EUR" in d.find_element(By.ID, "cancel-fee").text,
                  "the cancellation fee")
    browser.click('#booking-actions button[data-action="cancel"]')
    browser.until(lambda d: "cancelled" in d.find_element(By.CSS_SELECTOR, block(counter_id)).get_attribute("class"),
                  "the block to show cancelled")
    assert site.client.get(f"/v1/bookings/{counter_id}").json()["status"] == "cancelled"

    # A walk-in: the form starts at the current minute, off the grid and inside the minimum notice.
    browser.click("#walk-in")
    browser.visible("#new-dialog[open]", "the new booking dialog")
    Select(browser.find("#new-service")).select_by_value("haircut")
    browser.find("#new-name").send_keys("Walk-in Willi")
    browser.find("#new-phone").send_keys("+49 151 2345678")
    shoot(browser, "05-walk-in")
    browser.click("#new-form button[type=submit]")
    browser.until(lambda d: "Booked" in d.find_element(By.ID, "message").text, "the walk-in to be booked")
    walk_in = [b for b in site.client.get("/v1/bookings?status=confirmed").json()["bookings"]
               if b["customer"]["name"] == "Walk-in Willi"]
    assert len(walk_in) == 1 and walk_in[0]["staff"] == "anna"
    # From 23:30 the counter's booking above was tomorrow's and the page went there: show the walk-in's day.
    show_day(browser, walk_in[0]["start"][:10])
    browser.visible(block(walk_in[0]["id"]), "the walk-in's block")

    # The week.
    browser.click("#view-toggle")
    browser.visible(".week", "the week view")
    browser.assert_accessible("06-week")
    shoot(browser, "06-week", focus=".week")
    browser.click("#view-toggle")

    # The rule editor: a typo in Ben's hours is an error at its line.
    day = future_day(5)
    late = site.client.book(wall(day, "15:00"), staff="ben", name="Late Customer")
    assert late.status == 201, late
    late_id = late.json()["id"]
    Select(browser.visible("#rule-file")).select_by_value("staff.yaml")
    original = browser.find("#rule-text").get_attribute("value")
    line = original.splitlines().index("    " + BEN_HOURS) + 1
    set_rule_text(browser, original.replace("Mo-Su 00:00-24:00", "Mo-Sx 00:00-14:00"))
    browser.visible(f'#rule-lines span.bad[data-line="{line}"]', "the error at its line")
    assert f"Line {line}" in browser.find("#rule-diagnostics li.error").text
    browser.assert_accessible("07-rule-error")
    shoot(browser, "07-rule-error", focus=f'#rule-lines span[data-line="{line}"]')

    # Fixed: no error; the preview lists the booking the new hours would not allow.
    set_rule_text(browser, original.replace("Mo-Su 00:00-24:00", "Mo-Su 00:00-14:00"))
    browser.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#rule-lines span.bad"), "the error to go")
    browser.click("#rule-preview")
    browser.until(lambda d: late_id in d.find_element(By.ID, "rule-preview-result").text, "the preview's conflict")
    shoot(browser, "08-rule-preview", focus="#rule-preview-result")
    browser.click("#rule-save")
    saved = browser.until(lambda d: d.find_element(By.ID, "rules-state").text, "the save's outcome")
    assert saved.startswith("Saved staff.yaml"), saved
    assert "00:00-14:00" in (site.daemon.rules / "staff.yaml").read_text()

    # The day view follows: the late booking is marked, with the engine's reason.
    show_day(browser, day)
    browser.visible(block(late_id) + ".conflict", "the late booking marked as no longer allowed")
    assert "no longer allowed" in browser.find(block(late_id)).text
    shoot(browser, "09-day-after-rules", focus=block(late_id))

    # Restore the old hours from the history: the mark goes.
    browser.click("#rule-restore")
    browser.until(lambda d: "Restored" in d.find_element(By.ID, "rules-state").text, "the restore")
    browser.until(lambda d: "conflict" not in d.find_element(By.CSS_SELECTOR, block(late_id)).get_attribute("class"),
                  "the mark to go")


def test_a_note_from_the_booking_menu_and_one_from_the_counter_show_live(site, browser):
    day = future_day(4)
    booking = site.client.book(wall(day, "11:00"), staff="anna", name="Note Customer")
    assert booking.status == 201, booking
    booking_id = booking.json()["id"]
    browser.driver.set_window_size(*TABLET)
    browser.open(site.url + "/admin/")
    log_in(browser, "mehmet", "kamm-und-schere")
    browser.visible(".day", "the day view")
    show_day(browser, day)
    browser.visible(block(booking_id), "the booking's block")

    # The block's menu → note: saved with the socket's operation, and the block shows it.
    browser.click(block(booking_id))
    browser.visible("#booking-dialog[open]", "the booking dialog")
    assert browser.find("#note-text").get_attribute("value") == ""
    browser.find("#note-text").send_keys("allergic to lavender")
    browser.click("#note-form button[type=submit]")
    browser.until(lambda d: "allergic to lavender" in d.find_element(By.CSS_SELECTOR, block(booking_id)).text,
                  "the note on the block")
    assert site.client.get(f"/v1/bookings/{booking_id}").json()["notes"] == "allergic to lavender"

    # A note made elsewhere (here the counter's socket, as another open page would) reaches this page live.
    changed = site.client.request("PATCH", f"/v1/bookings/{booking_id}", json={"notes": "prefers Ben next time"})
    assert changed.status == 200, changed
    browser.until(lambda d: "prefers Ben next time" in d.find_element(By.CSS_SELECTOR, block(booking_id)).text,
                  "the counter's note on the block without a reload")
    browser.click(block(booking_id))
    browser.until(lambda d: d.find_element(By.ID, "note-text").get_attribute("value") == "prefers Ben next time",
                  "the dialog to show the current note")


def test_the_chair_occupancy_follows_the_bookings_live(site, browser):
    day = future_day(10)
    anna = site.client.book(wall(day, "10:00"), staff="anna", name="Chair One")
    ben = site.client.book(wall(day, "10:15"), staff="ben", name="Chair Two", service="beard_trim")
    assert anna.status == 201 and ben.status == 201, (anna, ben)
    browser.driver.set_window_size(*TABLET)
    browser.open(site.url + "/admin/")
    log_in(browser, "mehmet", "kamm-und-schere")
    browser.visible(".day", "the day view")
    show_day(browser, day)

    def levels(driver) -> list[tuple[int, int, int]]:
        bands = driver.find_elements(By.CSS_SELECTOR, '.occupancy[data-resource="chair"] .level')
        return [tuple(int(b.get_attribute(f"data-{k}")) for k in ("start", "end", "units")) for b in bands]

    # A haircut 10:00-10:30 and a beard trim 10:15-10:35 (20 min; its 5 min buffer holds no chair): both chairs
    # from 10:15 to 10:30, marked full.
    expected = [(600, 615, 1), (615, 630, 2), (630, 635, 1)]
    browser.until(lambda d: levels(d) == expected, f"the chair bands {expected}")
    full = browser.find('.occupancy[data-resource="chair"] .level.full')
    assert full.get_attribute("aria-label") == "10:15–10:30: 2 of 2 in use" and full.text == "2/2"
    assert browser.find(".occupancy-head").text == "Barber chair"
    browser.assert_accessible("occupancy")
    shoot(browser, "occupancy", focus=block(anna.json()["id"]))

    # Cancelled at the counter: the page redraws the chairs without a reload.
    assert site.client.post(f"/v1/bookings/{ben.json()['id']}/cancel", json={}).status == 200
    browser.until(lambda d: levels(d) == [(600, 630, 1)], "one chair in use after the cancellation")


README_SHOTS = Path(__file__).resolve().parents[2] / "docs"


def test_the_readme_screenshots_show_a_real_day_from_its_opening_with_the_names_on_top(
        slotd_binary, slotctl_binary, browser):
    """The README's pictures of the day: the test shop's real hours (9-18, Ben 10-16 with a break), scrolled to the
    opening with the barbers' names in view. Written to the screenshots directory; with SLOTD_README_SCREENSHOTS=1
    also to docs/admin-day-{phone,tablet}.png."""
    site = AdminSite(slotd_binary, slotctl_binary, round_the_clock=False)
    try:
        day = future_day(2)

        def book(time: str, staff: str, service: str, name: str, phone: str | None = None, **extra):
            customer = {"name": name, **({"phone": phone} if phone else {})}
            return site.client.book(wall(day, time), service=service, staff=staff, customer=customer, **extra)

        made = [
            book("09:00", "anna", "haircut", "Jonas Weber", "+49 151 2233445"),
            book("09:45", "anna", "beard_trim", "Emre Yilmaz", notes="fade, 2 on the sides"),
            book("10:30", "anna", "shave", "Paul Schmidt", "+49 160 9988776"),
            book("10:00", "ben", "haircut", "Luca Rossi"),
            book("11:00", "ben", "beard_trim", "Tim Kruse", "+49 170 1122334"),
        ]
        assert all(m.status == 201 for m in made), made
        browser.driver.set_window_size(*TABLET)
        browser.open(site.url + "/admin/")
        log_in(browser, "mehmet", "kamm-und-schere")
        browser.visible(".day", "the day view")
        show_day(browser, day)
        for booking in made:
            browser.visible(block(booking.json()["id"]), "every block")
        texts = [b.text for b in browser.find_all(".block")]
        assert not [t for t in texts if "·" in t], f"a block shows a separator dot: {texts}"
        # A booking without a phone shows no empty place for one.
        assert "Luca Rossi" in browser.find(block(made[3].json()["id"])).text
        for label, (width, height) in (("phone", PHONE), ("tablet", TABLET)):
            browser.driver.set_window_size(width, height)
            browser.until(lambda d: d.execute_script("return innerWidth") == width, f"the window to be {width} wide")
            # The page scrolled to the calendar, as a barber does: the grid fills the screen, starting at the
            # opening (09:00, the day's first open minute) under the barbers' names.
            browser.driver.execute_script("document.getElementById('calendar').scrollIntoView({block: 'start'})")
            assert browser.driver.execute_script("return document.querySelector('.day').scrollTop") == 0
            head = browser.driver.execute_script(
                "const r = document.querySelector('.day .head:nth-child(2)').getBoundingClientRect();"
                "return [r.top, r.bottom, innerHeight]")
            assert 0 <= head[0] and head[1] < head[2] / 4, f"{label}: the names are not on top: {head}"
            # Every barber and the chairs fit the width: nothing to scroll sideways to.
            overflow = browser.driver.execute_script(
                "const g = document.querySelector('.day'); return g.scrollWidth - g.clientWidth")
            assert overflow <= 0, f"{label}: the day is {overflow}px wider than the screen"
            first_hour = browser.find(".hours span").text
            assert first_hour == "09:00", first_hour
            # Scrolled down, the names stay on top (sticky).
            browser.driver.execute_script("document.querySelector('.day').scrollTop = 200")
            moved = browser.driver.execute_script(
                "return document.querySelector('.day .head:nth-child(2)').getBoundingClientRect().top")
            assert abs(moved - head[0]) < 1, f"{label}: the names scrolled away ({head[0]} → {moved})"
            # Every customer's name is whole inside its block, the 20-minute ones too, and no chair band's label
            # spills out of its band onto the next.
            clipped = browser.driver.execute_script("""
                const out = [];
                for (const b of document.querySelectorAll('.block')) {
                  const who = b.querySelector('.who').getBoundingClientRect(), box = b.getBoundingClientRect();
                  if (who.bottom > box.bottom + 0.5 || who.right > box.right + 0.5) out.push(b.textContent);
                }
                for (const label of document.querySelectorAll('.level span')) {
                  const band = label.parentElement.getBoundingClientRect();
                  if (label.getBoundingClientRect().height > band.height + 0.5) {
                    out.push(label.parentElement.getAttribute('aria-label'));
                  }
                }
                return out;""")
            assert not clipped, f"{label}: cut off: {clipped}"
            browser.driver.execute_script("document.querySelector('.day').scrollTop = 0")
            shot = browser.shots / f"readme-day-{label}.png"
            browser.driver.save_screenshot(str(shot))
            if os.environ.get("SLOTD_README_SCREENSHOTS") == "1":
                shutil.copyfile(shot, README_SHOTS / f"admin-day-{label}.png")
    finally:
        problems = site.stop()
    assert not problems, "\n".join(problems)
