// The manage page (`/b/{token}`): the booking, cancelling it (with the fee and refund in words) and moving it to
// another free start with the same barber or anyone; for a start offered from the waiting list, accepting or
// declining it.

import { api, describeError, follow } from "./api.js";
import {
    announce, bookingSummary, focusHeading, h, monthView, refocusMonthNav, shopToday, startPage, timeList,
} from "./ui.js";

const app = document.getElementById("app");
const token = decodeURIComponent(location.pathname.replace(/^.*\/b\//, "").replace(/\/+$/, ""));
const state = {
    shop: null, words: null, names: null, answer: null, mode: "view", busy: false,
    move: { staff: null, month: null, days: null, day: null, slots: null },
};
let feed = null;

function start() {
    app.replaceChildren();
    return startPage(state, "manage_title", {
        onLocale: () => { if (state.answer) render(false); },
        body: async () => {
            try {
                state.answer = await api.booking(token);
            } catch (error) {
                if (error.status !== 404 && error.status !== 400) throw error;
                app.replaceChildren(h("p", { class: "notice error", id: "not-found" }, state.words.t("not_found")));
                return;
            }
            render(false);
            feed = follow(api.bookingFeedURL(token), "booking", (booking) => {
                state.answer = { ...state.answer, booking };
                if (state.mode === "view") render(false);
            });
        },
    });
}

function setMode(mode) {
    state.mode = mode;
    announce("");
    render();
}

function render(focus = true) {
    const words = state.words;
    const { booking } = state.answer;
    // The booking's feed updates only the booking: an offer is open while its booking is still held.
    const offer = booking.status === "held" ? state.answer.offer : null;
    const open = ["held", "confirmed"].includes(booking.status) && !offer;
    const body = state.mode === "cancel" ? cancelPanel() : state.mode === "move" ? movePanel() : null;
    app.replaceChildren(h("section", { class: "step", "aria-labelledby": "step-title" },
        h("h2", { id: "step-title" }, words.t(state.mode === "move" ? "move" : state.mode === "cancel" ? "cancel"
            : offer ? "offer_title" : "step_done")),
        bookingSummary(words, state.shop, state.names, booking, offer ? "status_offered" : undefined),
        offer && offerPanel(offer),
        state.mode === "view" && open && h("div", { class: "actions" },
            h("a", { class: "button secondary", id: "ics-link", href: state.answer.ics_url, download: "termin.ics" },
                words.t("add_to_calendar")),
            h("button", { type: "button", class: "secondary", id: "move", onclick: () => startMove() },
                words.t("move")),
            h("button", { type: "button", class: "danger", id: "cancel", onclick: () => setMode("cancel") },
                words.t("cancel"))),
        body));
    if (focus) focusHeading(app);
}

// MARK: - Waiting-list offer

function offerPanel(offer) {
    const words = state.words;
    return h("div", { class: "panel", id: "offer-panel" },
        h("p", { id: "offer-hold" }, words.t("offer_hold", { time: words.dateTime(offer.expires_at) })),
        h("div", { class: "actions" },
            h("button", { type: "button", class: "primary", id: "offer-accept", disabled: state.busy, onclick: () => answerOffer(true) },
                words.t("offer_accept")),
            h("button", { type: "button", class: "secondary", id: "offer-decline", disabled: state.busy,
                onclick: () => answerOffer(false) }, words.t("offer_decline"))));
}

async function answerOffer(accept) {
    if (state.busy) return;
    state.busy = true;
    render(false);
    try {
        state.answer = await api.answerOffer(token, accept);
        state.busy = false;
        render();
        announce(state.words.t(accept ? "offer_accepted" : "offer_declined"), "success");
    } catch (error) {
        state.busy = false;
        render(false);
        announce(describeError(error, state.words), "error");
    }
}

// MARK: - Cancel

function cancelPanel() {
    const words = state.words;
    const { cancellation, booking } = state.answer;
    const lines = [];
    if (cancellation?.inside_window && cancellation.fee_cents > 0) {
        const window = state.shop.policies?.cancellation_window_minutes ?? 0;
        lines.push(words.t("cancel_fee", { fee: words.money(cancellation.fee_cents), window: words.duration(window) }));
    } else {
        lines.push(words.t("cancel_free"));
    }
    if (booking.deposit) {
        lines.push(cancellation?.refund_cents > 0
            ? words.t("cancel_refund", { amount: words.money(cancellation.refund_cents) })
            : words.t("cancel_no_refund"));
    }
    return h("div", { class: "panel", id: "cancel-panel" },
        lines.map((line) => h("p", { class: "cancel-terms" }, line)),
        h("div", { class: "actions" },
            h("button", { type: "button", class: "danger", id: "cancel-confirm", disabled: state.busy,
                onclick: cancelBooking }, words.t("cancel_confirm")),
            h("button", { type: "button", class: "secondary", id: "cancel-keep", onclick: () => setMode("view") },
                words.t("keep"))));
}

async function cancelBooking() {
    state.busy = true;
    render(false);
    try {
        state.answer = await api.cancel(token);
        state.mode = "view";
        render();
        announce(state.words.t("cancelled_message"), "success");
    } catch (error) {
        announce(describeError(error, state.words), "error");
    } finally {
        state.busy = false;
        if (state.mode !== "view") render(false);
    }
}

// MARK: - Move

function startMove() {
    const booking = state.answer.booking;
    state.move = {
        staff: booking.staff, month: shopToday(state.shop.time_zone).slice(0, 7), days: null, day: null,
        slots: null,
    };
    setMode("move");
}

function moveQuery() {
    const booking = state.answer.booking;
    return { service: booking.service, variant: booking.variant, staff: state.move.staff };
}

function movePanel() {
    const words = state.words;
    const move = state.move;
    const booking = state.answer.booking;
    const staffName = state.names.staff.get(booking.staff)?.name ?? booking.staff;
    const who = (value, label) => h("label", { class: "radio" },
        h("input", { type: "radio", name: "move-staff", value, checked: move.staff === value, onchange: () => {
            move.staff = value;
            move.days = null;
            move.slots = null;
            render(false);
        } }), label);
    const panel = h("div", { class: "panel", id: "move-panel" },
        h("fieldset", { class: "staff-choice" }, h("legend", {}, words.t("step_staff")),
            who(booking.staff, words.t("move_same", { name: staffName })),
            who("any", words.t("move_any"))));
    if (!move.days || move.days.month !== move.month) {
        panel.append(h("p", { class: "loading" }, words.t("loading")));
        loadMoveMonth();
    } else {
        panel.append(monthView(words, move.month, move.days.days, {
            selected: move.day,
            firstMonth: shopToday(state.shop.time_zone).slice(0, 7),
            onPick: (date) => { move.day = date; move.slots = null; render(false); },
            onMonth: (month) => {
                move.focus = month > move.month ? "next" : "previous";
                move.month = month;
                render(false);
            },
        }));
    }
    if (move.day && !move.slots) {
        panel.append(h("p", { class: "loading" }, words.t("loading")));
        loadMoveSlots();
    } else if (move.day) {
        const slots = move.slots.filter((slot) => slot.start !== booking.start || slot.staff !== booking.staff);
        panel.append(h("h3", {}, words.calendarDay(move.day)), timeList(words, slots, {
            label: words.calendarDay(move.day),
            onPick: (slot) => moveTo(slot),
        }));
    }
    panel.append(h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", id: "move-close",
        onclick: () => setMode("view") }, words.t("close"))));
    return panel;
}

async function loadMoveMonth() {
    const query = { ...moveQuery(), month: state.move.month };
    try {
        const days = await api.days(query);
        if (state.mode !== "move" || query.staff !== state.move.staff || query.month !== state.move.month) return;
        state.move.days = days;
        render(false);
        if (state.move.focus) refocusMonthNav(app, state.move.focus);
        state.move.focus = null;
    } catch (error) {
        announce(describeError(error, state.words), "error");
    }
}

async function loadMoveSlots() {
    const day = state.move.day;
    const staff = state.move.staff;
    try {
        const answer = await api.slots({ ...moveQuery(), from: day, to: day });
        if (state.mode !== "move" || day !== state.move.day || staff !== state.move.staff) return;
        state.move.slots = answer.slots;
        render(false);
    } catch (error) {
        announce(describeError(error, state.words), "error");
    }
}

async function moveTo(slot) {
    if (state.busy) return;
    state.busy = true;
    try {
        state.answer = await api.reschedule(token, slot.start, state.move.staff);
        state.mode = "view";
        render();
        announce(state.words.t("moved_message"), "success");
    } catch (error) {
        announce(describeError(error, state.words), "error");
        state.move.slots = null;
        render(false);
    } finally {
        state.busy = false;
    }
}

window.addEventListener("pagehide", () => feed?.close());
start();
