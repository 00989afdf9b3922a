// The public API under /public/v1 as the pages use it: JSON requests, problem+json errors, and the live feeds.

const BASE = "/public/v1";

/** An answer that was not 2xx: the status and the problem+json body (or a stand-in when there was none). */
export class ApiError extends Error {
    constructor(status, problem) {
        super(problem.detail || problem.title || `HTTP ${status}`);
        this.status = status;
        this.problem = problem;
    }

    /** The problem's `code` (`slot_unavailable`, `validation_failed`, …), or "" when the answer had none. */
    get code() { return this.problem.code || ""; }
}

/** A request that never reached the server (offline, proxy down). */
export class NetworkError extends Error {}

async function request(method, path, { body, headers } = {}) {
    let response;
    try {
        response = await fetch(BASE + path, {
            method,
            headers: {
                Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}), ...headers,
            },
            body: body ? JSON.stringify(body) : undefined,
            credentials: "same-origin",
        });
    } catch (error) {
        throw new NetworkError(String(error));
    }
    const text = await response.text();
    let value = {};
    if (text) {
        try { value = JSON.parse(text); } catch { value = { detail: text.slice(0, 200) }; }
    }
    if (!response.ok) throw new ApiError(response.status, value);
    return value;
}

function query(params) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
        if (value !== undefined && value !== null && value !== "") search.set(name, value);
    }
    return search.toString();
}

export const api = {
    shop: () => request("GET", "/shop"),
    services: () => request("GET", "/services"),
    staff: () => request("GET", "/staff"),
    days: (params) => request("GET", `/days?${query(params)}`),
    slots: (params) => request("GET", `/slots?${query(params)}`),
    slotFeedURL: (params) => `${BASE}/slots?${query({ ...params, watch: "true" })}`,
    createBooking: (body, idempotencyKey) =>
        request("POST", "/bookings", { body, headers: { "Idempotency-Key": idempotencyKey } }),
    booking: (token) => request("GET", `/bookings/${encodeURIComponent(token)}`),
    cancel: (token, reason) =>
        request("POST", `/bookings/${encodeURIComponent(token)}/cancel`, { body: reason ? { reason } : {} }),
    answerOffer: (token, accept) =>
        request("POST", `/bookings/${encodeURIComponent(token)}/${accept ? "accept" : "decline"}`, { body: {} }),
    reschedule: (token, start, staff) =>
        request("POST", `/bookings/${encodeURIComponent(token)}/reschedule`, { body: { start, staff } }),
    bookingFeedURL: (token) => `${BASE}/bookings/${encodeURIComponent(token)}/events`,
};

/**
 * Follows a Server-Sent Events feed: `onValue(json)` for each event named `name`. The browser reconnects by itself
 * after a dropped connection; `close()` ends it.
 */
export function follow(url, name, onValue) {
    const source = new EventSource(url);
    source.addEventListener(name, (event) => {
        let value;
        try { value = JSON.parse(event.data); } catch { return; }
        onValue(value);
    });
    return { close: () => source.close() };
}

/** A fresh Idempotency-Key: random, so two attempts never share one. */
export function newIdempotencyKey() {
    if (crypto.randomUUID) return `web-${crypto.randomUUID()}`;
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The message a customer should read for a failed request. */
export function describeError(error, words) {
    if (error instanceof NetworkError) return words.t("error_network");
    if (error instanceof ApiError && error.status === 429) return words.t("error_rate");
    return words.t("error_generic", { detail: error.message });
}
