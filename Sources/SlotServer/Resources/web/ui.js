// Pieces both pages use: building DOM, the shop's branding, the month view, the time list and a booking's summary.

import { Words, bindLocaleSwitch, chosenLocale } from "./i18n.js";
import { api, describeError } from "./api.js";

/** An element: `h("button", { class: "x", onclick }, "text", child)`; `null`/`false` children are skipped. */
export function h(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
        if (value === undefined || value === null || value === false) continue;
        if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
        else if (name === "dataset") Object.assign(element.dataset, value);
        else element.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat(Infinity)) {
        if (child === null || child === undefined || child === false) continue;
        element.append(child instanceof Node ? child : String(child));
    }
    return element;
}

/** Moves the focus to a step's heading, so keyboard and screen-reader users start where the new content starts. */
export function focusHeading(container) {
    const heading = container.querySelector("h2, h3");
    if (!heading) return;
    heading.tabIndex = -1;
    heading.focus({ preventScroll: false });
}

/**
 * Starts a page: fetches the shop and its catalogue into `state` (`shop`, `names`, `words`), applies the branding
 * and the language (`onLocale()` re-renders after a switch), runs `body()`, and then marks the page ready
 * (`performance.mark("slotd:ready")`, which the benchmark reads, and `body[data-ready]`, which the tests wait for).
 */
export async function startPage(state, titleKey, { onLocale, body }) {
    const setLocale = (locale) => {
        state.words = new Words(locale, state.shop.time_zone, state.shop.currency);
        applyShop(state.shop, state.words, state.words.t(titleKey), (next) => {
            setLocale(next);
            onLocale();
        });
        document.getElementById("page-title").textContent = state.words.t(titleKey);
    };
    try {
        const [shop, services, staff] = await Promise.all([api.shop(), api.services(), api.staff()]);
        state.shop = shop;
        state.names = catalogue(services, staff);
        setLocale(chosenLocale(shop.locale));
        await body();
    } catch (error) {
        state.words ??= new Words("en", "UTC", "EUR");
        announce(describeError(error, state.words), "error");
    } finally {
        performance.mark("slotd:ready");
        document.body.dataset.ready = "true";
    }
}

/** Applies the shop's title, logo, accent colour, legal links and the language switch to the page frame. */
export function applyShop(shop, words, pageTitle, onLocale) {
    document.documentElement.lang = words.locale;
    document.title = `${pageTitle} · ${shop.title}`;
    document.getElementById("shop-title").textContent = shop.title;
    const logo = document.getElementById("shop-logo");
    if (shop.logo_url) {
        logo.src = shop.logo_url;
        logo.hidden = false;
    }
    if (/^#[0-9a-fA-F]{6}$/.test(shop.accent_colour || "")) {
        const root = document.documentElement.style;
        root.setProperty("--accent", shop.accent_colour);
        root.setProperty("--on-accent", textOn(shop.accent_colour));
    }
    const legal = document.getElementById("legal");
    legal.replaceChildren(
        ...[["imprint", shop.legal?.imprint], ["privacy", shop.legal?.privacy]]
            .filter(([, url]) => url)
            .map(([key, url]) => h("a", { href: url, rel: "noopener" }, words.t(key))),
    );
    const label = document.getElementById("locale-label");
    label.textContent = words.t("language");
    bindLocaleSwitch(document.getElementById("locale"), words.locale, onLocale);
}

/** Black or white, whichever reads better on `hex` (WCAG relative luminance). */
function textOn(hex) {
    const channel = (i) => {
        const c = parseInt(hex.slice(i, i + 2), 16) / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    return (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) ? "#000000" : "#ffffff";
}

/** After the month view re-rendered: the focus back on the button that paged it (or the other, when disabled). */
export function refocusMonthNav(container, which) {
    const buttons = [...container.querySelectorAll(".month-head button")].filter((b) => !b.disabled);
    (buttons.find((b) => b.dataset.nav === which) ?? buttons[0])?.focus();
}

/** Shows `message` in the page's status line (read out by screen readers); `kind` is "error" or "info". */
export function announce(message, kind = "info") {
    const status = document.getElementById("status");
    status.textContent = message || "";
    status.className = message ? `notice ${kind}` : "";
    status.hidden = !message;
}

// MARK: - Month view

/** `YYYY-MM` of `date` (a `YYYY-MM-DD`) moved by `delta` months. */
export function shiftMonth(month, delta) {
    const [year, index] = month.split("-").map(Number);
    const moved = new Date(Date.UTC(year, index - 1 + delta, 1));
    return `${moved.getUTCFullYear()}-${String(moved.getUTCMonth() + 1).padStart(2, "0")}`;
}

/** Today's `YYYY-MM-DD` in the shop's time zone. */
export function shopToday(timeZone) {
    return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
        .format(new Date());
}

/**
 * A month as a grid of days, Monday first: days with free starts are buttons, the others are shown but disabled.
 * `onPick(date)` when a free day is chosen, `onMonth(month)` for the previous/next buttons.
 */
export function monthView(words, month, days, { selected, firstMonth, onPick, onMonth }) {
    const [year, index] = month.split("-").map(Number);
    const offset = (new Date(Date.UTC(year, index - 1, 1)).getUTCDay() + 6) % 7;
    const cells = [...Array(offset).fill(null), ...days];
    const rows = [];
    for (let i = 0; i < cells.length; i += 7) rows.push(cells.slice(i, i + 7));
    const title = words.month(month);
    return h("div", { class: "month" },
        h("div", { class: "month-head" },
            h("button", {
                type: "button", class: "icon-button", "aria-label": words.t("previous_month"),
                disabled: month <= firstMonth, dataset: { nav: "previous" },
                onclick: () => onMonth(shiftMonth(month, -1)),
            }, "‹"),
            h("h3", { class: "month-title", id: "month-title", "aria-live": "polite" }, title),
            h("button", {
                type: "button", class: "icon-button", "aria-label": words.t("next_month"),
                dataset: { nav: "next" }, onclick: () => onMonth(shiftMonth(month, 1)),
            }, "›"),
        ),
        h("table", { class: "days", "aria-labelledby": "month-title" },
            h("thead", {}, h("tr", {}, [0, 1, 2, 3, 4, 5, 6].map((i) => h("th", { scope: "col" }, words.weekday(i))))),
            h("tbody", {}, rows.map((row) => h("tr", {}, row.map((day) => h("td", {}, day && h("button", {
                type: "button",
                class: `day${day.free ? " free" : ""}${day.date === selected ? " selected" : ""}`,
                disabled: !day.free,
                "aria-pressed": day.date === selected ? "true" : "false",
                "aria-label": words.t(day.free ? "day_free" : "day_full", { date: words.calendarDay(day.date) }),
                dataset: { date: day.date },
                onclick: () => onPick(day.date),
            }, String(Number(day.date.slice(8)))))))))),
    );
}

// MARK: - Times

/** The free starts of one day as buttons; `onPick(slot)` with the chosen `{start, end, staff}`. */
export function timeList(words, slots, { selected, label, onPick }) {
    if (!slots.length) return h("p", { class: "empty" }, words.t("no_times"));
    return h("ul", { class: "times", "aria-label": label },
        slots.map((slot) => h("li", {}, h("button", {
            type: "button",
            class: `time${slot.start === selected ? " selected" : ""}`,
            "aria-pressed": slot.start === selected ? "true" : "false",
            dataset: { start: slot.start, staff: slot.staff },
            onclick: () => onPick(slot),
        }, words.time(slot.start)))));
}

// MARK: - A booking

/** The names of services, variants and staff by id, for showing a booking. */
export function catalogue(servicesAnswer, staffAnswer) {
    const services = new Map(servicesAnswer.services.map((s) => [s.id, s]));
    const staff = new Map(staffAnswer.staff.map((s) => [s.id, s]));
    return { services, staff, servicesList: servicesAnswer.services, staffList: staffAnswer.staff };
}

/** A booking as a definition list: when, where, what, with whom, price, deposit and status. */
export function bookingSummary(words, shop, names, booking, statusKey = `status_${booking.status}`) {
    const service = names.services.get(booking.service);
    const variant = service?.variants?.find((v) => v.id === booking.variant);
    const what = [service?.name ?? booking.service, variant?.name].filter(Boolean).join(" – ");
    const rows = [
        ["when", `${words.dateTime(booking.start)} – ${words.time(booking.end)}`],
        ["where", shop.title],
        ["what", what],
        ["who", names.staff.get(booking.staff)?.name ?? booking.staff],
        ["price", words.money(booking.price.amount)],
        booking.deposit && ["deposit", words.money(booking.deposit.amount)],
        ["status", h("span", { class: `badge ${booking.status}`, id: "booking-status", dataset: {
            status: booking.status } }, words.t(statusKey))],
    ].filter(Boolean);
    return h("dl", { class: "summary" }, rows.map(([key, value]) => [h("dt", {}, words.t(key)), h("dd", {}, value)]));
}
