// The booking page: service → who → day → time → details and consent → deposit → confirmation.
// One state object; each step renders from it, so switching the language re-renders the step in place.

import { api, ApiError, describeError, follow, newIdempotencyKey } from "./api.js";
import {
    announce, bookingSummary, focusHeading, h, monthView, refocusMonthNav, shopToday, startPage, timeList,
} from "./ui.js";

const PENDING_KEY = "slotd.pending";   // the booking this tab made: a reload shows it instead of booking again
const ATTEMPT_KEY = "slotd.attempt";   // the Idempotency-Key and the body it was used with

const app = document.getElementById("app");
const state = {
    shop: null, words: null, names: null,
    step: "service", service: null, variant: null, staff: null,
    month: null, days: null, day: null, slots: null, slot: null,
    form: { name: "", phone: "", email: "", notes: "", consent: false },
    fieldErrors: {}, alternatives: null, takenNotice: null, submitting: false,
    result: null, booking: null, paid: false, paymentError: null, stripeUnavailable: false,
};
let slotFeed = null;
let bookingFeed = null;

// MARK: - Start

function start() {
    app.replaceChildren();
    return startPage(state, "book_title", {
        onLocale: () => render(false),
        body: async () => {
            const pending = readSession(PENDING_KEY);
            if (pending?.token) await resume(pending);
            else render();
        },
    });
}

/** After a reload: show the booking this tab already made (paid or not) rather than starting a second one. */
async function resume(pending) {
    try {
        const answer = await api.booking(pending.token);
        state.result = { ...answer, payment: pending.payment ?? paymentOf(answer.booking) };
        state.booking = answer.booking;
        state.paid = Boolean(pending.paid);
        state.service = state.names.services.get(answer.booking.service) ?? null;
        goTo(needsPayment(answer.booking) && !state.paid ? "payment" : "done", false);
        followBooking();
    } catch {
        sessionStorage.removeItem(PENDING_KEY);
        render();
    }
}

// MARK: - Steps

function goTo(step, focus = true) {
    state.step = step;
    announce("");
    if (!["time", "details"].includes(step)) closeSlotFeed();
    render(focus);
}

function render(focus = true) {
    const words = state.words;
    const step = STEPS[state.step];
    const back = step.back && h("button", { type: "button", class: "link back", onclick: step.back }, "← ",
        words.t("back"));
    app.replaceChildren(h("section", { class: `step step-${state.step}`, "aria-labelledby": "step-title" },
        back,
        h("h2", { id: "step-title" }, words.t(step.title())),
        choices(),
        step.body()));
    if (focus) focusHeading(app);
}

const STEPS = {
    service: { title: () => (state.service?.variants?.length ? "step_variant" : "step_service"), body: serviceStep,
        back: null },
    staff: { title: () => "step_staff", body: staffStep, back: () => { state.variant = null; goTo("service"); } },
    day: { title: () => "step_day", body: dayStep, back: () => goTo("staff") },
    time: { title: () => "step_time", body: timeStep, back: () => goTo("day") },
    details: { title: () => "step_details", body: detailsStep, back: () => goTo("time") },
    payment: { title: () => (state.booking?.card ? "step_card" : "step_payment"), body: paymentStep, back: null },
    done: { title: () => "step_done", body: doneStep, back: null },
};

/** What the customer has chosen so far, above every step after the first. */
function choices() {
    const words = state.words;
    if (!state.service || ["payment", "done"].includes(state.step)) return null;
    const parts = [state.service.name, state.variant?.name];
    if (state.staff && state.step !== "staff") {
        parts.push(state.staff === "any" ? words.t("any_staff") : state.names.staff.get(state.staff)?.name);
    }
    if (state.day && ["time", "details"].includes(state.step)) parts.push(words.calendarDay(state.day));
    if (state.slot && state.step === "details") parts.push(words.time(state.slot.start));
    const shown = parts.filter(Boolean);
    if (!shown.length || state.step === "service") return null;
    return h("p", { class: "choices" }, h("span", { class: "visually-hidden" }, `${words.t("chosen")}: `),
        shown.join(" · "));
}

function offering() { return state.variant ?? state.service; }

function priceLine(item) {
    const words = state.words;
    return [words.t("minutes", { n: item.duration_minutes }), words.money(item.price.amount),
        item.deposit && words.t("deposit_of", { amount: words.money(item.deposit.amount) })]
        .filter(Boolean).join(" · ");
}

function serviceStep() {
    const service = state.service;
    if (service?.variants?.length) {
        return h("div", { class: "choice-list" },
            h("button", { type: "button", class: "link", onclick: () => { state.service = null; render(); } },
                "← ", state.words.t("step_service")),
            service.variants.map((variant) => choiceButton(variant.name, priceLine(variant), `variant-${variant.id}`,
                () => { state.variant = variant; goTo("staff"); })));
    }
    return h("div", { class: "choice-list" }, state.names.servicesList.map((item) => choiceButton(item.name,
        priceLine(item), `service-${item.id}`, () => {
            state.service = item;
            state.variant = null;
            if (item.variants?.length) render();
            else goTo("staff");
        })));
}

function choiceButton(title, detail, id, onclick) {
    return h("button", { type: "button", class: "choice", id, onclick },
        h("span", { class: "choice-title" }, title), detail && h("span", { class: "choice-detail" }, detail));
}

function staffStep() {
    const words = state.words;
    const able = state.names.staffList.filter((member) => member.services.includes(state.service.id));
    const pick = (id) => () => {
        state.staff = id;
        state.day = null;
        state.month = shopToday(state.shop.time_zone).slice(0, 7);
        state.days = null;
        goTo("day");
    };
    return h("div", { class: "choice-list" },
        choiceButton(words.t("any_staff"), words.t("any_staff_hint"), "staff-any", pick("any")),
        able.map((member) => choiceButton(member.name, null, `staff-${member.id}`, pick(member.id))));
}

function slotQuery() {
    return { service: state.service.id, variant: state.variant?.id, staff: state.staff };
}

function dayStep() {
    const container = h("div", { class: "day-step" });
    if (!state.days || state.days.month !== state.month) {
        container.append(h("p", { class: "loading" }, state.words.t("loading")));
        loadMonth(state.month);
        return container;
    }
    container.append(monthView(state.words, state.month, state.days.days, {
        selected: state.day,
        firstMonth: shopToday(state.shop.time_zone).slice(0, 7),
        onPick: (date) => { state.day = date; state.slots = null; state.slot = null; goTo("time"); },
        onMonth: (month) => {
            state.monthFocus = month > state.month ? "next" : "previous";
            state.month = month;
            render(false);
        },
    }));
    return container;
}

async function loadMonth(month) {
    try {
        const days = await api.days({ ...slotQuery(), month });
        if (state.step !== "day" || state.month !== month) return;
        state.days = days;
        render(false);
        if (state.monthFocus) refocusMonthNav(app, state.monthFocus);
        state.monthFocus = null;
    } catch (error) {
        announce(describeError(error, state.words), "error");
    }
}

function timeStep() {
    const container = h("div", { class: "time-step" });
    if (!state.slots) {
        container.append(h("p", { class: "loading" }, state.words.t("loading")));
        loadSlots();
        return container;
    }
    container.append(
        h("p", { class: "hint" }, state.words.t("times_live")),
        timeList(state.words, state.slots, {
            selected: state.slot?.start,
            label: state.words.calendarDay(state.day),
            onPick: (slot) => { state.slot = slot; state.alternatives = null; state.takenNotice = null;
                goTo("details"); },
        }));
    return container;
}

async function loadSlots() {
    const day = state.day;
    try {
        const answer = await api.slots({ ...slotQuery(), from: day, to: day });
        if (state.step !== "time" || state.day !== day) return;
        state.slots = answer.slots;
        render(false);
        openSlotFeed();
    } catch (error) {
        announce(describeError(error, state.words), "error");
    }
}

/** Follows the day's slot feed: a start someone else takes disappears from the list, without a reload. */
function openSlotFeed() {
    closeSlotFeed();
    const day = state.day;
    slotFeed = follow(api.slotFeedURL({ ...slotQuery(), from: day, to: day }), "slots", (answer) => {
        if (state.day !== day || !Array.isArray(answer.slots)) return;
        if (JSON.stringify(answer.slots) === JSON.stringify(state.slots)) return;
        state.slots = answer.slots;
        if (state.step === "time") {
            const focused = document.activeElement?.dataset?.start;
            const list = app.querySelector(".times, .empty");
            list?.replaceWith(timeList(state.words, state.slots, {
                selected: state.slot?.start, label: state.words.calendarDay(day),
                onPick: (slot) => { state.slot = slot; goTo("details"); },
            }));
            if (focused) app.querySelector(`[data-start="${CSS.escape(focused)}"]`)?.focus();
        } else if (state.step === "details" && state.slot && !state.submitting
                   && !answer.slots.some((slot) => slot.start === state.slot.start)) {
            state.takenNotice = state.slot.start;
            render(false);
            announce(state.words.t("slot_taken_now", { time: state.words.time(state.slot.start) }), "error");
        }
    });
}

function closeSlotFeed() {
    slotFeed?.close();
    slotFeed = null;
}

// MARK: - Details

function policyText() {
    const words = state.words;
    const policies = state.shop.policies ?? {};
    const lines = [];
    const window = policies.cancellation_window_minutes ?? 0;
    if (window > 0) {
        lines.push(words.t("policy_free", { window: words.duration(window) }));
        const percent = policies.cancellation_fee_percent ?? 0;
        const fee = policies.cancellation_fee_cents
            ?? Math.round((offering().price.amount * percent) / 100);
        lines.push(fee > 0 ? words.t(percent ? "policy_fee_percent" : "policy_fee", { fee: words.money(fee), percent })
            : words.t("policy_no_fee"));
    }
    const deposit = offering().deposit;
    if (deposit) lines.push(words.t("policy_deposit", { amount: words.money(deposit.amount) }));
    else if (policies.card_on_file) lines.push(words.t("policy_card"));
    return lines;
}

function field(name, label, input, hint) {
    const error = state.fieldErrors[name];
    const described = [hint && `${name}-hint`, error && `${name}-error`].filter(Boolean).join(" ") || undefined;
    input.id = name;
    input.name = name;
    if (described) input.setAttribute("aria-describedby", described);
    if (error) input.setAttribute("aria-invalid", "true");
    return h("div", { class: `field${error ? " invalid" : ""}` },
        h("label", { for: name }, label),
        hint && h("p", { class: "hint", id: `${name}-hint` }, hint),
        input,
        error && h("p", { class: "field-error", id: `${name}-error` }, error));
}

function detailsStep() {
    const words = state.words;
    const form = state.form;
    const bind = (key) => (event) => { form[key] = event.target.type === "checkbox" ? event.target.checked
        : event.target.value; };
    const taken = state.takenNotice && h("div", { class: "notice error", role: "alert" },
        h("p", {}, words.t("slot_taken_now", { time: words.time(state.takenNotice) })),
        h("button", { type: "button", class: "secondary", onclick: () => goTo("time") }, words.t("step_time")));
    const alternatives = state.alternatives && h("div", { class: "notice error alternatives", role: "alert" },
        h("p", {}, words.t("taken"), " ", words.t("alternatives")),
        h("ul", { class: "times" }, state.alternatives.map((slot) => h("li", {}, h("button", {
            type: "button", class: "time", dataset: { start: slot.start, staff: slot.staff },
            onclick: () => {
                const day = slot.start.slice(0, 10);
                state.slot = slot;
                state.alternatives = null;
                state.takenNotice = null;
                if (day !== state.day) {
                    state.day = day;
                    state.slots = null;
                    openSlotFeed();
                }
                render();
            },
        }, words.t("pick_alternative", { time: `${words.day(slot.start)}, ${words.time(slot.start)}` }))))));
    return h("form", { class: "details", novalidate: true, onsubmit: (event) => { event.preventDefault(); submit(); } },
        taken, alternatives,
        field("name", words.t("name"), h("input", { type: "text", autocomplete: "name", required: true,
            maxlength: "200", value: form.name, oninput: bind("name") })),
        field("phone", words.t("phone"), h("input", { type: "tel", autocomplete: "tel", maxlength: "40",
            value: form.phone, oninput: bind("phone") }), words.t("contact_hint")),
        field("email", words.t("email"), h("input", { type: "email", autocomplete: "email", maxlength: "254",
            value: form.email, oninput: bind("email") })),
        field("notes", words.t("notes"), Object.assign(h("textarea", { rows: "3", maxlength: "2000",
            oninput: bind("notes") }), { value: form.notes })),
        h("div", { class: "policy" }, policyText().map((line) => h("p", {}, line))),
        h("div", { class: `field check${state.fieldErrors.consent ? " invalid" : ""}` },
            h("input", { type: "checkbox", id: "consent", name: "consent", checked: form.consent,
                "aria-invalid": state.fieldErrors.consent ? "true" : null,
                "aria-describedby": state.fieldErrors.consent ? "consent-error" : null, onchange: bind("consent") }),
            h("label", { for: "consent" }, words.t("consent")),
            state.fieldErrors.consent && h("p", { class: "field-error", id: "consent-error" },
                state.fieldErrors.consent)),
        h("button", { type: "submit", class: "primary", id: "book", disabled: state.submitting },
            words.t(state.submitting ? "booking" : "book")));
}

function validate() {
    const words = state.words;
    const form = state.form;
    const errors = {};
    if (!form.name.trim()) errors.name = words.t("need_name");
    if (!form.phone.trim() && !form.email.trim()) errors.phone = words.t("need_contact");
    if (form.email.trim() && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(form.email.trim())) errors.email = words.t("bad_email");
    if (!form.consent) errors.consent = words.t("need_consent");
    return errors;
}

function bookingBody() {
    const form = state.form;
    const customer = { name: form.name.trim() };
    if (form.phone.trim()) customer.phone = form.phone.trim();
    if (form.email.trim()) customer.email = form.email.trim();
    const body = { service: state.service.id, staff: state.staff, start: state.slot.start, customer, consent: true };
    if (state.variant) body.variant = state.variant.id;
    if (form.notes.trim()) body.notes = form.notes.trim();
    return body;
}

/** One Idempotency-Key per attempt: the same body (a double click, a retry) reuses it, a changed one gets a new. */
function attemptKey(body) {
    const serialised = JSON.stringify(body);
    const attempt = readSession(ATTEMPT_KEY);
    if (attempt?.body === serialised) return attempt.key;
    const key = newIdempotencyKey();
    sessionStorage.setItem(ATTEMPT_KEY, JSON.stringify({ key, body: serialised }));
    return key;
}

async function submit() {
    if (state.submitting) return;
    state.fieldErrors = validate();
    if (Object.keys(state.fieldErrors).length) {
        render(false);
        app.querySelector("[aria-invalid=true]")?.focus();
        return;
    }
    const body = bookingBody();
    state.submitting = true;
    state.alternatives = null;
    render(false);
    try {
        const result = await api.createBooking(body, attemptKey(body));
        closeSlotFeed();
        state.result = { ...result, payment: result.payment ?? paymentOf(result.booking) };
        state.booking = result.booking;
        sessionStorage.setItem(PENDING_KEY, JSON.stringify({ token: result.token, payment: state.result.payment }));
        followBooking();
        goTo(needsPayment(result.booking) ? "payment" : "done");
    } catch (error) {
        showBookingError(error);
    } finally {
        state.submitting = false;
        if (state.step === "details") render(false);
    }
}

const FIELD_OF = { "customer.name": "name", "customer.phone": "phone", "customer.email": "email", customer: "phone",
    notes: "notes", consent: "consent" };

function showBookingError(error) {
    if (error instanceof ApiError && error.status === 409) {
        state.alternatives = error.problem.alternatives ?? [];
        state.takenNotice = null;
        announce(state.words.t("taken"), "error");
        return;
    }
    const fields = error instanceof ApiError ? (error.problem.fields ?? []) : [];
    const mapped = fields.filter((f) => FIELD_OF[f.field]);
    for (const f of mapped) state.fieldErrors[FIELD_OF[f.field]] = f.reason;
    if (!mapped.length || mapped.length < fields.length) announce(describeError(error, state.words), "error");
}

// MARK: - Deposit and confirmation

/** A held booking with a deposit (or a card to save) waits for the customer's payment. */
function needsPayment(booking) {
    return booking.status === "held"
        && Boolean(booking.deposit || booking.payment || booking.card || state.result?.payment);
}

/**
 * The client secret from the booking itself, for when the booking was answered before its PaymentIntent (or the
 * SetupIntent that saves the card on file) existed.
 */
function paymentOf(booking) {
    const setup = booking?.card?.client_secret;
    if (setup) return { client_secret: setup, kind: "setup" };
    const secret = booking?.payment?.client_secret;
    return secret ? { client_secret: secret, kind: secret.startsWith("seti_") ? "setup" : "deposit" } : null;
}

/** Follows the booking's own feed: "confirmed" when the webhook has confirmed it, "expired" when the hold ran out. */
function followBooking() {
    bookingFeed?.close();
    bookingFeed = follow(api.bookingFeedURL(state.result.token), "booking", (booking) => {
        state.booking = booking;
        if (!state.result.payment && paymentOf(booking)) {
            state.result = { ...state.result, payment: paymentOf(booking) };
            if (state.step === "payment") render(false);
        }
        if (booking.status !== "held") {
            if (state.step === "payment") goTo("done");
            else if (state.step === "done") render(false);
            if (booking.status !== "held" && booking.status !== "confirmed") bookingFeed?.close();
        } else if (state.step === "done") {
            render(false);
        }
    });
}

function paymentStep() {
    const words = state.words;
    const booking = state.booking;
    const payment = state.result.payment;
    const amount = booking.deposit ? words.money(booking.deposit.amount) : "";
    const container = h("div", { class: "payment" },
        bookingSummary(words, state.shop, state.names, booking),
        booking.hold_expires_at && h("p", { class: "hint" },
            words.t("hold_until", { time: words.time(booking.hold_expires_at) })),
        state.paymentError && h("p", { class: "notice error", role: "alert" }, state.paymentError));
    if (!state.shop.stripe || state.stripeUnavailable || !payment) {
        container.append(h("p", { class: `notice ${payment ? "error" : "info"}` },
            words.t(payment ? "payment_unavailable" : "loading")));
        return container;
    }
    const mount = h("div", { id: "card-element", class: "card-element" });
    const button = h("button", { type: "button", class: "primary", id: "pay" },
        payment.kind === "setup" ? words.t("save_card") : words.t("pay", { amount }));
    container.append(h("div", { class: "field", role: "group", "aria-labelledby": "card-label" },
        h("p", { class: "label", id: "card-label" }, words.t("card_label")), mount), button);
    // Loaded at this step only: most bookings need no card, and the first load stays small.
    import("./payment.js").then(({ startPayment }) => startPayment(state.shop.stripe, payment, mount, button, {
        busyText: words.t("paying"),
        onPaid: () => {
            state.paid = true;
            state.paymentError = null;
            sessionStorage.setItem(PENDING_KEY, JSON.stringify({ token: state.result.token, payment, paid: true }));
            goTo("done");
        },
        onFailed: (message) => {
            state.paymentError = words.t("payment_failed", { detail: message });
            render(false);
        },
        onUnavailable: (message) => {
            state.stripeUnavailable = true;
            state.paymentError = message;
            render(false);
        },
    })).catch((error) => {
        state.stripeUnavailable = true;
        state.paymentError = describeError(error, words);
        render(false);
    });
    return container;
}

function doneStep() {
    const words = state.words;
    const booking = state.booking;
    const message = {
        held: state.paid ? "waiting_confirmation" : "status_held",
        confirmed: "confirmed_message",
        expired: "expired_message",
        cancelled: "cancelled_message",
    }[booking.status];
    const tone = booking.status === "confirmed" ? "success" : (booking.status === "held" ? "info" : "error");
    return h("div", { class: "done" },
        message && h("p", { class: `notice ${tone}`, id: "done-message", role: "status" }, words.t(message)),
        bookingSummary(words, state.shop, state.names, booking),
        ["held", "confirmed"].includes(booking.status) && h("div", { class: "actions" },
            h("a", { class: "button secondary", id: "ics-link", href: state.result.ics_url, download: "termin.ics" },
                words.t("add_to_calendar")),
            h("a", { class: "button secondary", id: "manage-link", href: state.result.manage_url },
                words.t("manage_link"))),
        ["held", "confirmed"].includes(booking.status) && h("p", { class: "hint" }, words.t("manage_hint")),
        h("button", { type: "button", class: "link", id: "start-over", onclick: startOver }, words.t("start_over")));
}

function startOver() {
    bookingFeed?.close();
    sessionStorage.removeItem(PENDING_KEY);
    sessionStorage.removeItem(ATTEMPT_KEY);
    Object.assign(state, {
        service: null, variant: null, staff: null, day: null, slots: null, slot: null, result: null, booking: null,
        paid: false, paymentError: null, alternatives: null, takenNotice: null, fieldErrors: {},
        form: { ...state.form, notes: "", consent: false },
    });
    goTo("service");
}

function readSession(key) {
    try { return JSON.parse(sessionStorage.getItem(key) || "null"); } catch { return null; }
}

start();
