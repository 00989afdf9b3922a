"""The booking page and the manage page in a real browser, end to end through nginx (issue 12).

Headless Chromium opens the shop at nginx's address; nginx proxies to slotd's web listener; deposits are paid
through localstripe's own Stripe.js (with the card-element confirmation of real Stripe.js, see
localstripe_server.py), and localstripe delivers the signed webhook through nginx to slotd. Every step is
screenshotted at phone and desktop width into build-artifacts/screenshots/<test>/, and axe-core checks each page.
Run alone: `python3 -m pytest -q Tests/IntegrationTests/test_web_page.py` (after `swift build`).
"""

from __future__ import annotations

import json
import re

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import future_day, local_iso, wait_for, wall
from test_outbox import SECRET as HOOK_SECRET, Receiver
from test_payments import LocalStripe
from web_browser import WEBHOOK_SECRET, Browser, Site, WebListenerMissing

NO_DEPOSIT_DAY = future_day(3)
DEPOSIT_DAY = future_day(4)
MANAGE_DAY = future_day(5)
LIVE_DAY = future_day(6)
CARD_DAY = future_day(7)
WAITLIST_DAY = future_day(8)


# MARK: - Fixtures


@pytest.fixture(scope="module")
def stripe(tmp_path_factory):
    peer = LocalStripe(tmp_path_factory.mktemp("localstripe"))
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def site(slotd_binary, stripe):
    """slotd with a `web:` section behind nginx; localstripe's webhooks go to the public route through nginx."""
    try:
        shop = Site(slotd_binary, stripe.base)
    except WebListenerMissing as missing:
        pytest.skip(f"this slotd build has no web listener yet (branch webapi): {missing}")
    stripe.call("POST", "/_config/webhooks/slotd-web",
                {"url": f"{shop.url}/public/v1/payments/stripe/webhook", "secret": WEBHOOK_SECRET})
    yield shop
    problems = shop.stop()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def card_site(slotd_binary, stripe):
    """A second shop with no-show protection on (`card_on_file`), its webhook through its own nginx."""
    shop = Site(slotd_binary, stripe.base, card_on_file=True)
    stripe.call("POST", "/_config/webhooks/slotd-web-card",
                {"url": f"{shop.url}/public/v1/payments/stripe/webhook", "secret": WEBHOOK_SECRET})
    yield shop
    problems = shop.stop()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def waitlist_site(slotd_binary, stripe, tmp_path_factory):
    """A shop whose waitlist offers go out as webhooks to a receiver here, with the customer's link in them."""
    receiver = Receiver().start()
    secret_file = tmp_path_factory.mktemp("hook") / "hook.whsec"
    secret_file.write_text(HOOK_SECRET + "\n")
    shop = Site(slotd_binary, stripe.base, providers=f"""\
  hook:
    type: webhook
    url: {receiver.url}
    secret_file: {secret_file}
""", extra_config="""
notifications:
  language: en
  routes:
    - on: [waitlist.offered]
      to: [hook]
""")
    shop.receiver = receiver
    yield shop
    receiver.stop()
    problems = shop.stop()
    assert not problems, "\n".join(problems)


@pytest.fixture
def browser(request):
    chromium = Browser(request.node.name)
    yield chromium
    try:
        assert not chromium.script_errors(), f"the page's scripts logged errors: {chromium.script_errors()}"
    finally:
        chromium.quit()


# MARK: - Steps a customer takes


def choose_day(browser: Browser, date: str) -> None:
    """Pages forward through the month view to `date` and picks it (it must be marked free)."""
    browser.visible(".day", "the month view")
    for _ in range(4):
        if browser.find_all(f'button.day[data-date^="{date[:7]}"]'):
            break
        browser.click(".month-head button:last-of-type")
        browser.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'button.day[data-date^="{date[:7]}"]'),
                      f"the month of {date}")
    assert browser.find(f'button.day[data-date="{date}"]').is_enabled(), f"{date} is not marked free"
    browser.click(f'button.day[data-date="{date}"]')


def time_button(date: str, hhmm: str) -> str:
    return f'button.time[data-start^="{date}T{hhmm}"]'


def fill_details(browser: Browser, name: str, phone: str = "", email: str = "") -> None:
    browser.visible("#name").send_keys(name)
    if phone:
        browser.find("#phone").send_keys(phone)
    if email:
        browser.find("#email").send_keys(email)
    browser.click("label[for=consent]")


def book_on_page(browser: Browser, site: Site, service: str, staff: str, day: str, hhmm: str, name: str,
                 email: str) -> None:
    """Goes through the booking page from its start to "book": service, staff, day, start, details."""
    browser.open(site.url + "/")
    browser.click(f"#service-{service}")
    browser.click(f"#staff-{staff}")
    choose_day(browser, day)
    browser.click(time_button(day, hhmm))
    fill_details(browser, name, email=email)
    browser.click("#book")


def enter_card(browser: Browser, number: str = "4242424242424242") -> None:
    """Types a card into localstripe's card element (number, month, year, CVC, postcode) and presses the button."""
    inputs = browser.find_all("#card-element input")
    for field, value in zip(inputs, [number, "12", "30", "123", "10115"]):
        field.clear()
        field.send_keys(value)
    browser.click("#pay")


def bookings_of(site: Site, day: str, name: str) -> list[dict]:
    resp = site.client.get(f"/v1/bookings?from={day}&to={day}")
    assert resp.status == 200, resp
    return [b for b in resp.json()["bookings"] if b["customer"]["name"] == name]


def status_is(status: str):
    return lambda d: d.find_element(By.ID, "booking-status").get_attribute("data-status") == status


# MARK: - Tests


def test_booking_a_haircut_without_deposit_by_keyboard_in_english(site, browser):
    browser.open(site.url + "/")
    assert browser.driver.execute_script("return document.documentElement.lang") == "de", "the shop's default"
    Select(browser.find("#locale")).select_by_value("en")
    browser.until(lambda d: d.execute_script("return document.documentElement.lang") == "en", "the English page")
    assert browser.find("#step-title").text == "Choose a service"
    browser.shoot("01-service")
    browser.assert_accessible("01-service")

    # The first step by keyboard alone: Tab to the haircut, Enter; the focus moves to the next step's heading.
    for _ in range(12):
        if browser.driver.switch_to.active_element.get_attribute("id") == "service-haircut":
            break
        ActionChains(browser.driver).send_keys(Keys.TAB).perform()
    assert browser.driver.switch_to.active_element.get_attribute("id") == "service-haircut"
    ActionChains(browser.driver).send_keys(Keys.ENTER).perform()
    browser.until(lambda d: d.find_element(By.ID, "step-title").text == "Choose who", "the staff step")
    assert browser.driver.switch_to.active_element.get_attribute("id") == "step-title"
    browser.shoot("02-staff")

    browser.click("#staff-anna")
    browser.visible(".day.free", "days with free starts")
    browser.shoot("03-day")
    choose_day(browser, NO_DEPOSIT_DAY)
    browser.click(time_button(NO_DEPOSIT_DAY, "10:00"))
    browser.visible("#name")
    browser.shoot("04-details")

    # Nothing goes out until the form is complete: the errors sit at their fields.
    browser.click("#book")
    browser.visible("#name-error")
    assert browser.find("#name").get_attribute("aria-invalid") == "true"
    assert browser.find_all("#consent-error")
    assert not bookings_of(site, NO_DEPOSIT_DAY, "Ada Lovelace")
    fill_details(browser, "Ada Lovelace", phone="0151 2345678")
    browser.assert_accessible("04-details")
    # A double click on "book" makes one booking.
    browser.driver.execute_script("const b = document.getElementById('book'); b.click(); b.click();")
    browser.visible("#done-message", "the confirmation")
    browser.until(status_is("confirmed"), "the booking to be confirmed")
    browser.shoot("05-confirmed")
    browser.assert_accessible("05-confirmed")

    [booking] = bookings_of(site, NO_DEPOSIT_DAY, "Ada Lovelace")
    assert booking["status"] == "confirmed" and booking["staff"] == "anna" and booking["service"] == "haircut"
    assert booking["start"] == local_iso(NO_DEPOSIT_DAY, "10:00")
    assert booking["customer"]["phone"] == "+491512345678", "normalised to E.164 with the shop's country"

    # The links go through the proxy: the calendar file and the manage page.
    ics = browser.find("#ics-link").get_attribute("href")
    manage = browser.find("#manage-link").get_attribute("href")
    assert ics.startswith(site.url) and manage.startswith(site.url + "/b/")
    calendar = site.web.get(site.path(ics))
    assert calendar.status == 200 and calendar.content_type == "text/calendar", calendar
    assert b"BEGIN:VEVENT" in calendar.body

    # A reload shows the same booking; it never books again.
    browser.driver.refresh()
    browser.until(status_is("confirmed"), "the booking after a reload")
    assert len(bookings_of(site, NO_DEPOSIT_DAY, "Ada Lovelace")) == 1


def test_a_deposit_is_paid_with_stripe_js_and_the_page_turns_confirmed_by_the_webhook(site, browser, stripe):
    book_on_page(browser, site, "shave", "any", DEPOSIT_DAY, "11:00", "Grace Hopper", "grace@example.com")

    # The hold with its PaymentIntent: localstripe's card element mounts in the page.
    browser.visible("#card-element input", "Stripe's card element")
    browser.until(status_is("held"), "the held booking")
    browser.shoot("06-payment")
    browser.assert_accessible("06-payment")
    enter_card(browser)

    # Paid in the browser; localstripe's signed webhook reaches slotd through nginx; the booking's event
    # turns the page to "confirmed" (no polling: the page only listens).
    browser.until(status_is("confirmed"), "the webhook's confirmation to reach the page", timeout=30)
    browser.shoot("07-deposit-confirmed")
    [booking] = bookings_of(site, DEPOSIT_DAY, "Grace Hopper")
    assert booking["status"] == "confirmed" and booking["payment"]["status"] == "succeeded"
    intent = stripe.call("GET", f"/v1/payment_intents/{booking['payment']['reference']}")
    assert intent["status"] == "succeeded" and intent["amount"] == 1000

    # A reload after paying shows the paid booking and makes no second one.
    browser.driver.refresh()
    browser.until(status_is("confirmed"), "the booking after a reload")
    assert not browser.find_all("#card-element input")
    assert len(bookings_of(site, DEPOSIT_DAY, "Grace Hopper")) == 1


def test_the_manage_link_moves_and_then_cancels_the_booking(site, browser):
    resp = site.web.post("/public/v1/bookings", json={
        "service": "haircut", "staff": "anna", "start": wall(MANAGE_DAY, "14:00"),
        "customer": {"name": "Katherine Johnson", "email": "kj@example.com"}, "consent": True,
    }, headers={"Idempotency-Key": "web-test-manage"})
    assert resp.status == 201, resp
    created = resp.json()
    assert site.path(created["manage_url"]).startswith("/b/")
    browser.open(created["manage_url"])
    browser.until(status_is("confirmed"), "the booking on the manage page")
    browser.shoot("08-manage")
    browser.assert_accessible("08-manage")

    # Move it to another start with the same barber.
    browser.click("#move")
    browser.visible("#move-panel")
    choose_day(browser, MANAGE_DAY)
    browser.visible(time_button(MANAGE_DAY, "16:00"))
    browser.shoot("09-move")
    browser.click(time_button(MANAGE_DAY, "16:00"))
    browser.until(lambda d: not d.find_elements(By.ID, "move-panel"), "the move to finish")
    [moved] = bookings_of(site, MANAGE_DAY, "Katherine Johnson")
    assert moved["start"] == local_iso(MANAGE_DAY, "16:00") and moved["staff"] == "anna"
    assert moved["status"] == "confirmed"

    # Cancel it: days ahead, so free of charge; the page says so before the customer confirms.
    browser.click("#cancel")
    terms = browser.visible(".cancel-terms").text
    assert terms, "the fee (or that there is none) is shown before cancelling"
    browser.shoot("10-cancel")
    browser.assert_accessible("10-cancel")
    browser.click("#cancel-confirm")
    browser.until(status_is("cancelled"), "the cancellation")
    browser.shoot("11-cancelled")
    [cancelled] = bookings_of(site, MANAGE_DAY, "Katherine Johnson")
    assert cancelled["status"] == "cancelled"

    # A forged link is refused with a message, not a broken page.
    browser.open(site.url + "/b/not-a-token")
    browser.visible("#not-found")
    browser.assert_accessible("12-bad-link")


def test_a_start_booked_over_the_socket_disappears_live_and_a_conflict_offers_alternatives(site, browser):
    browser.open(site.url + "/")
    browser.click("#service-haircut")
    browser.click("#staff-anna")
    choose_day(browser, LIVE_DAY)
    browser.visible(time_button(LIVE_DAY, "15:00"))

    # Someone books 15:00 at the counter (the Unix socket): the button goes without a reload.
    assert site.client.book(wall(LIVE_DAY, "15:00"), staff="anna", name="Counter").status == 201
    browser.until(lambda d: not d.find_elements(By.CSS_SELECTOR, time_button(LIVE_DAY, "15:00")),
                  "15:00 to disappear from the page")
    browser.shoot("13-live")

    # The customer chooses 16:00 and fills the form; meanwhile the counter takes 16:00 as well.
    browser.click(time_button(LIVE_DAY, "16:00"))
    fill_details(browser, "Hedy Lamarr", phone="+43 1 2345678")
    assert site.client.book(wall(LIVE_DAY, "16:00"), staff="anna", name="Counter 2").status == 201
    browser.visible(".notice.error", "the notice that the chosen start was taken")
    # Booking anyway answers 409: the page offers the nearest free starts instead.
    browser.click("#book")
    alternative = browser.visible(".alternatives button.time", "the alternatives")
    browser.shoot("14-alternatives")
    chosen = alternative.get_attribute("data-start")
    browser.click(f'.alternatives button.time[data-start="{chosen}"]')
    browser.click("#book")
    browser.until(status_is("confirmed"), "the booking at the alternative")
    [booking] = bookings_of(site, LIVE_DAY, "Hedy Lamarr")
    assert booking["start"] == chosen and booking["status"] == "confirmed"


def test_with_card_on_file_the_card_element_saves_the_card_and_the_webhook_confirms(card_site, browser, stripe):
    book_on_page(browser, card_site, "haircut", "anna", CARD_DAY, "10:00", "Mary Jackson", "mj@example.com")

    # Held until the card is saved: the page mounts the card element for the SetupIntent (no amount to pay).
    browser.visible("#card-element input", "Stripe's card element for the card on file")
    browser.until(status_is("held"), "the held booking")
    assert browser.find("#step-title").text == "Karte hinterlegen", "the shop's default locale, not a deposit"
    browser.shoot("15-card-on-file")
    browser.assert_accessible("15-card-on-file")
    enter_card(browser)

    # confirmCardSetup in the page; localstripe's setup_intent.succeeded reaches slotd through nginx.
    browser.until(status_is("confirmed"), "the card's webhook to confirm the booking", timeout=30)
    browser.shoot("16-card-saved")
    [booking] = bookings_of(card_site, CARD_DAY, "Mary Jackson")
    assert booking["status"] == "confirmed" and booking["card"]["status"] == "saved", booking
    assert "payment" not in booking and "deposit" not in booking
    intent = stripe.call("GET", f"/v1/setup_intents/{booking['card']['reference']}")
    assert intent["status"] == "succeeded" and intent["customer"] and intent["payment_method"]


# MARK: - Waiting list


def offer_link(site: Site, name: str) -> str:
    """The link in the `waitlist.offered` message to `name`: the customer's own page for the held start."""
    def delivered():
        for delivery in site.receiver.deliveries:
            text = json.dumps(delivery["body"])
            if delivery["body"].get("type") == "waitlist.offered" and email(name) in text:
                return re.search(r'http://127\.0\.0\.1:\d+/b/[^"\\\s]+', text).group(0)
        return None
    return wait_for(delivered, timeout=30, what=f"the offer's message to {name}")


def email(name: str) -> str:
    return f"{name.split()[0].lower()}@example.com"


def free_a_start_for(site: Site, start: str, names: list[str]) -> None:
    """Books `start` with Anna, puts `names` in line for it, and cancels the booking: the first is offered it."""
    taken = site.client.book(wall(WAITLIST_DAY, start), staff="anna", name="Zoe")
    assert taken.status == 201, taken
    end = f"{start[:3]}{int(start[3:]) + 15:02d}"
    for name in names:
        joined = site.client.post("/v1/waitlist", json={
            "service": "haircut", "staff": "anna", "from": WAITLIST_DAY, "after": start, "before": end,
            "customer": {"name": name, "email": email(name)}})
        assert joined.status == 201, joined
    assert site.client.post(f"/v1/bookings/{taken.json()['id']}/cancel", json={}).status == 200


def test_a_waitlist_offer_is_accepted_on_the_customers_own_page(waitlist_site, browser):
    site = waitlist_site
    free_a_start_for(site, "10:00", ["Mary Jackson"])
    link = offer_link(site, "Mary Jackson")
    browser.open(link)
    browser.until(status_is("held"), "the offer on the page")
    browser.visible("#offer-panel")
    browser.visible("#offer-accept")
    browser.shoot("13-offer")
    browser.assert_accessible("13-offer")
    # An offer is answered, not moved or cancelled like a booking.
    assert not browser.driver.find_elements(By.ID, "move") and not browser.driver.find_elements(By.ID, "cancel")
    browser.click("#offer-accept")
    browser.until(status_is("confirmed"), "the accepted offer")
    assert not browser.driver.find_elements(By.ID, "offer-panel")
    browser.shoot("14-offer-accepted")
    [booked] = bookings_of(site, WAITLIST_DAY, "Mary Jackson")
    assert booked["status"] == "confirmed" and booked["start"] == local_iso(WAITLIST_DAY, "10:00")
    [entry] = site.client.get("/v1/waitlist?status=booked").json()["entries"]
    assert entry["customer"]["name"] == "Mary Jackson"
    # Answered once: a second answer is refused, and the page's link now shows a plain booking.
    path = site.path(link).replace("/b/", "/public/v1/bookings/")
    again = site.web.post(path + "/decline", json={})
    assert again.status == 409 and again.json()["code"] == "invalid_transition", again
    assert "offer" not in site.web.get(path).json()


def test_declining_an_offer_by_its_link_passes_the_start_to_the_next_in_line(waitlist_site):
    site = waitlist_site
    free_a_start_for(site, "11:00", ["Dorothy Vaughan", "Christine Darden"])
    first = site.path(offer_link(site, "Dorothy Vaughan")).replace("/b/", "/public/v1/bookings/")
    shown = site.web.get(first)
    assert shown.status == 200 and shown.json()["offer"]["expires_at"] == shown.json()["booking"]["hold_expires_at"]
    declined = site.web.post(first + "/decline", json={})
    assert declined.status == 200, declined
    assert declined.json()["booking"]["status"] == "cancelled" and "offer" not in declined.json()
    second = site.path(offer_link(site, "Christine Darden")).replace("/b/", "/public/v1/bookings/")
    assert site.web.post(second + "/accept", json={}).status == 200
    [booked] = [b for b in bookings_of(site, WAITLIST_DAY, "Christine Darden") if b["status"] == "confirmed"]
    assert booked["start"] == local_iso(WAITLIST_DAY, "11:00")
    # A booking that is no offer has nothing to accept.
    plain = site.web.post("/public/v1/bookings", json={
        "service": "haircut", "staff": "anna", "start": wall(WAITLIST_DAY, "15:00"),
        "customer": {"name": "Annie Easley", "email": "annie@example.com"}, "consent": True,
    }, headers={"Idempotency-Key": "web-test-waitlist-plain"})
    assert plain.status == 201, plain
    refused = site.web.post(site.path(plain.json()["manage_url"]).replace("/b/", "/public/v1/bookings/") + "/accept",
                            json={})
    assert refused.status == 409 and "not a waitlist offer" in refused.json()["detail"], refused
