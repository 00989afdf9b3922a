// The admin page: log in, then the day (a column per barber) or the week, live from the event stream
// (Server-Sent Events; the browser resumes with Last-Event-ID), and the booking actions. No build step.

const state = {
  me: null, date: null, days: 1, data: null, events: null, open: null, loading: false, reloadAgain: false,
};
const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    if (state.me) headers["X-CSRF-Token"] = state.me.csrf_token;
  }
  const response = await fetch(path, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (response.status === 401 && path !== "/admin/api/login") {
    showLogin("Your session has ended — log in again.");
  }
  if (!response.ok) {
    const error = new Error((json && (json.detail || json.title)) || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return json;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

const clock = (minute) => `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
const localTime = (iso) => iso.slice(11, 16);
const money = (cents, currency) => `${(cents / 100).toFixed(2)} ${currency || ""}`.trim();
const serviceName = (id) => state.data?.services.find((s) => s.id === id)?.name || id;
const staffName = (id) => state.data?.staff.find((s) => s.id === id)?.name || id;

// MARK: - Login

function showLogin(message) {
  state.me = null;
  if (state.events) { state.events.close(); state.events = null; }
  $("app-view").hidden = true;
  $("rules-view").hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("connection").textContent = "";
  $("login-view").hidden = false;
  $("login-error").textContent = message || "";
}

async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    const credentials = { name: $("login-name").value, password: $("login-password").value };
    state.me = await api("POST", "/admin/api/login", credentials);
    $("login-password").value = "";
    await start();
  } catch (error) {
    $("login-error").textContent = error.status === 429 ? `Too many attempts. ${error.message}` : error.message;
  }
}

async function logout() {
  try { await api("POST", "/admin/api/logout"); } catch (_) { /* the session may be gone already */ }
  showLogin("Logged out.");
}

async function start() {
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = `${state.me.user} (${state.me.role})`;
  state.date = state.date || state.me.today;
  await load();
  await loadRules();
}

// MARK: - Data and the live feed

async function load() {
  $("date").value = state.date;
  show(await api("GET", `/admin/api/day?date=${state.date}&days=${state.days}`));
  connect();
}

/// Draws a day answer unless it is older than the one shown (a fetch that finished after a newer push).
function show(data) {
  const same = state.data && state.data.from === data.from && state.data.days.length === data.days.length;
  if (same && data.cursor < state.data.cursor) return;
  state.data = data;
  render();
}

// A change redraws at once: the first event loads the day right away, and the events that arrive while that load
// runs are covered by one more load after it (a burst costs two loads, not one per event; no timer delays the first).
function scheduleReload() {
  if (state.loading) { state.reloadAgain = true; return; }
  state.loading = true;
  load().catch(showError).finally(() => {
    state.loading = false;
    if (state.reloadAgain) { state.reloadAgain = false; scheduleReload(); }
  });
}

// The shown days, live: the daemon pushes the whole day after every change, so the page redraws without asking
// back, and each message is complete (a page that lost the connection misses nothing when it is back). Showing
// other days opens a stream for them.
function connect() {
  const shown = `date=${state.date}&days=${state.days}`;
  if (state.events && state.live === shown) return;
  if (state.events) state.events.close();
  const source = new EventSource(`/admin/api/day/live?${shown}`);
  state.events = source;
  state.live = shown;
  let lost = false;
  source.addEventListener("open", () => {
    setConnection(lost ? "Connection back" : "Live", false);
    lost = false;
  });
  source.addEventListener("error", () => {
    lost = true;
    setConnection("Connection lost — reconnecting…", true);
    if (source.readyState === EventSource.CLOSED && state.events === source) {
      state.events = null;
      api("GET", "/admin/api/me").then(() => setTimeout(() => load().catch(showError), 2000)).catch(() => {});
    }
  });
  source.addEventListener("day", (message) => {
    if (state.events !== source) return;
    const data = JSON.parse(message.data);
    if (data.from === state.date && data.days.length === state.days) show(data);
  });
  source.addEventListener("problem", (message) => showError({ message: JSON.parse(message.data).detail }));
}

function setConnection(text, lost) {
  const badge = $("connection");
  badge.textContent = text;
  badge.classList.toggle("lost", lost);
  document.body.dataset.connection = lost ? "lost" : "live";
}

function showError(error) { $("message").textContent = error.message; }

// MARK: - Views

function render() {
  const data = state.data;
  const first = data.days[0].date;
  const isToday = first === state.me.today && state.days === 1;
  $("day-title").textContent = state.days === 1
    ? `${isToday ? "Today, " : ""}${new Date(first + "T12:00").toDateString()}`
    : `Week from ${new Date(first + "T12:00").toDateString()}`;
  const calendar = $("calendar");
  // A live redraw keeps the grid where the barber scrolled it; another day starts at its opening (today: now).
  const shown = `${first}/${state.days}`;
  const previous = calendar.querySelector(".day");
  const kept = previous && state.shown === shown ? [previous.scrollTop, previous.scrollLeft] : null;
  calendar.replaceChildren(state.days === 1 ? dayView(data, data.days[0]) : weekView(data));
  state.shown = shown;
  const grid = calendar.querySelector(".day");
  if (!grid) return;
  if (kept) [grid.scrollTop, grid.scrollLeft] = kept;
  else grid.scrollTop = (startMinute(data, isToday) - data.first_minute) * minuteHeight(grid, data);
}

/// The minute a day is first shown at: today an hour before now, another day its first opening or booking.
function startMinute(data, isToday) {
  if (isToday) {
    const [hour, minute] = walkInStart().slice(11, 16).split(":").map(Number);
    return Math.max(data.first_minute, hour * 60 + minute - 60);
  }
  const starts = data.days[0].columns.flatMap((c) =>
    [...c.open.map((o) => o.start), ...c.bookings.map((b) => b.start - b.buffer_before)]);
  return starts.length ? Math.min(...starts) : data.first_minute;
}

function minuteHeight(grid, data) {
  const hours = grid.querySelector(".hours");
  return hours ? hours.offsetHeight / Math.max(1, data.last_minute - data.first_minute) : 0;
}

function orderedColumns(columns) {
  const own = state.me.staff;
  return own ? [...columns].sort((a, b) => (b.staff === own) - (a.staff === own)) : columns;
}

function dayView(data, day) {
  const span = data.last_minute - data.first_minute;
  const columns = orderedColumns(day.columns);
  const grid = element("div", { class: "day", role: "region", "aria-label": `Bookings on ${day.date}` });
  grid.style.setProperty("--columns", columns.length);
  grid.style.setProperty("--resources", day.occupancy.length);
  grid.style.setProperty("--span", span);
  grid.append(element("div", { class: "head", "aria-hidden": "true" }, ""));
  for (const column of columns) grid.append(element("div", { class: "head" }, column.name));
  for (const resource of day.occupancy) {
    grid.append(element("div", { class: "head occupancy-head", title: resource.name }, resource.name));
  }
  const hours = element("div", { class: "hours", "aria-hidden": "true" });
  for (let minute = data.first_minute; minute < data.last_minute; minute += 60) {
    const label = element("span", {}, clock(minute));
    label.style.top = `calc(${minute - data.first_minute} * var(--minute))`;
    hours.append(label);
  }
  grid.append(hours);
  const place = (node, start, end) => {
    node.style.top = `calc(${Math.max(0, start - data.first_minute)} * var(--minute))`;
    const shown = Math.min(end, data.last_minute) - Math.max(start, data.first_minute);
    node.style.height = `calc(${Math.max(0, shown)} * var(--minute))`;
  };
  for (const column of columns) {
    const cell = element("div", { class: "column", role: "group", "aria-label": column.name,
      dataset: { staff: column.staff } });
    for (const open of column.open) {
      const free = element("div", { class: "open" });
      place(free, open.start, open.end);
      cell.append(free);
    }
    for (const block of column.bookings) cell.append(blockButton(block, place));
    grid.append(cell);
  }
  for (const resource of day.occupancy) grid.append(occupancyColumn(resource, place));
  return grid;
}

// How many of a resource (the chairs) are in use when, as bands: darker the fuller, marked when all are taken.
function occupancyColumn(resource, place) {
  const cell = element("div", { class: "column occupancy", role: "group",
    "aria-label": `${resource.name}: ${resource.capacity} in the shop`, dataset: { resource: resource.resource } });
  for (const level of resource.levels) {
    const full = level.units >= resource.capacity;
    const band = element("div", {
      class: full ? "level full" : "level", role: "img",
      "aria-label": `${clock(level.start)}–${clock(level.end)}: ${level.units} of ${resource.capacity} in use`,
      dataset: { start: level.start, end: level.end, units: level.units },
    }, element("span", { "aria-hidden": "true" }, `${level.units}/${resource.capacity}`));
    band.style.setProperty("--share", Math.min(1, level.units / resource.capacity));
    place(band, level.start, level.end);
    cell.append(band);
  }
  return cell;
}

function blockButton(block, place) {
  const b = block.booking;
  const conflict = block.conflicts && block.conflicts.length > 0;
  const classes = ["block", b.status, conflict ? "conflict" : ""].join(" ");
  const whole = block.end - block.start + block.buffer_before + block.buffer_after;
  const button = element("button", {
    type: "button", class: classes, dataset: { booking: b.id },
    onclick: () => openBooking(b.id),
  });
  place(button, block.start - block.buffer_before, block.end + block.buffer_after);
  if (block.buffer_before > 0) {
    const shade = element("span", { class: "buffer", "aria-hidden": "true" });
    shade.style.top = "0"; shade.style.height = `${(100 * block.buffer_before) / whole}%`;
    button.append(shade);
  }
  if (block.buffer_after > 0) {
    const shade = element("span", { class: "buffer", "aria-hidden": "true" });
    shade.style.bottom = "0"; shade.style.height = `${(100 * block.buffer_after) / whole}%`;
    button.append(shade);
  }
  const payment = b.payment ? `deposit ${b.payment.status.replaceAll("_", " ")}` : (b.deposit ? "deposit due" : null);
  // Each fact is its own piece that wraps whole, with space between and no separator characters: a block cut off
  // by its height never ends in a dangling "·".
  const facts = [
    [`${localTime(b.start)}–${localTime(b.end)}`, "when"], [b.services.map(serviceName).join(" + "), "what"],
    [b.customer.name, "who"], [b.customer.phone, "phone"], [b.status.replace("_", "-"), "status"],
    [payment, "payment"], [b.notes ? `“${b.notes}”` : null, "notes"],
  ].filter(([text]) => text);
  const text = element("span", { class: "text" });
  for (const [fact, kind] of facts) text.append(element("span", { class: `fact ${kind}` }, fact), " ");
  button.append(text);
  const spoken = facts.map(([fact]) => fact);
  if (conflict) {
    const reason = `no longer allowed: ${block.conflicts.map((r) => r.message).join("; ")}`;
    button.append(element("span", { class: "text conflict-reason" }, ` ⚠ ${reason}`));
    spoken.push(reason);
  }
  button.setAttribute("aria-label", spoken.join(", "));
  return button;
}

function weekView(data) {
  const week = element("div", { class: "week" });
  for (const day of data.days) {
    const section = element("section", { "aria-label": day.date },
      element("h2", {}, new Date(day.date + "T12:00").toDateString()));
    for (const column of orderedColumns(day.columns)) {
      const list = element("ul", {});
      for (const block of column.bookings) {
        const b = block.booking;
        list.append(element("li", {}, element("button", { type: "button", class: `block-line ${b.status}`,
          dataset: { booking: b.id }, onclick: () => openBooking(b.id) },
          `${localTime(b.start)} ${b.customer.name} (${b.services.map(serviceName).join(" + ")}, ${b.status})`)));
      }
      const open = column.open.length
        ? column.open.map((s) => `${clock(s.start)}–${clock(s.end)}`).join(", ") : "closed";
      section.append(element("h3", {}, `${column.name}: ${open}`),
        column.bookings.length ? list : element("p", {}, "—"));
    }
    week.append(section);
  }
  return week;
}

// MARK: - A booking and its actions

async function openBooking(id) {
  const answer = await api("GET", `/admin/api/bookings/${encodeURIComponent(id)}`);
  const b = answer.booking;
  state.open = answer;
  const details = $("booking-details");
  const currency = b.price?.currency;
  details.replaceChildren(
    element("p", {}, `${b.start.slice(0, 10)} ${localTime(b.start)}–${localTime(b.end)} with ${staffName(b.staff)}`),
    element("p", {}, `${b.services.map(serviceName).join(" + ")} · ${b.status} · ${b.id}`),
    element("p", {}, [b.customer.name, b.customer.phone, b.customer.email].filter(Boolean).join(" · ")),
    b.notes ? element("p", {}, `Notes: ${b.notes}`) : null,
    b.payment ? element("p", {}, `Deposit: ${b.payment.status}`) : null,
    answer.conflicts.length
      ? element("p", { class: "conflict-reason" },
        `No longer allowed: ${answer.conflicts.map((r) => r.message).join("; ")}`)
      : null,
    element("p", { id: "cancel-fee" }, answer.cancel_fee_cents > 0
      ? `Cancelling now costs ${money(answer.cancel_fee_cents, currency)} (inside the cancellation window).`
      : "Cancelling now costs nothing."));
  const active = b.status === "held" || b.status === "confirmed";
  for (const button of $("booking-actions").querySelectorAll("button")) button.disabled = !active;
  $("move-form").hidden = !active;
  $("move-start").value = b.start.slice(0, 16);
  $("move-staff").replaceChildren(...state.data.staff.map((s) => element("option", { value: s.id }, s.name)));
  $("move-staff").value = b.staff;
  $("note-text").value = b.notes || "";
  $("booking-error").textContent = "";
  $("booking-dialog").showModal();
}

async function act(action) {
  const id = state.open.booking.id;
  try {
    const body = action === "cancel" ? { reason: "cancelled by the shop" } : undefined;
    await api("POST", `/admin/api/bookings/${encodeURIComponent(id)}/${action}`, body);
    $("booking-dialog").close();
    $("message").textContent = `Booking ${id}: ${action} done.`;
    scheduleReload();
  } catch (error) {
    $("booking-error").textContent = error.message;
  }
}

async function move(event) {
  event.preventDefault();
  const id = state.open.booking.id;
  try {
    await api("POST", `/admin/api/bookings/${encodeURIComponent(id)}/reschedule`,
      { start: $("move-start").value, staff: $("move-staff").value });
    $("booking-dialog").close();
    $("message").textContent = `Booking ${id} moved.`;
    scheduleReload();
  } catch (error) {
    $("booking-error").textContent = error.message;
  }
}

// A note is kept in any state (a finished visit's note is the shop's record too); other open pages redraw the
// block from the `booking.noted` event.
async function saveNote(event) {
  event.preventDefault();
  const id = state.open.booking.id;
  try {
    await api("POST", `/admin/api/bookings/${encodeURIComponent(id)}/notes`, { notes: $("note-text").value.trim() });
    $("booking-dialog").close();
    $("message").textContent = `Booking ${id}: note saved.`;
    scheduleReload();
  } catch (error) {
    $("booking-error").textContent = error.message;
  }
}

function openNew(start, walkIn = false) {
  state.walkIn = walkIn;
  $("new-dialog-title").textContent = walkIn ? "Walk-in" : "New booking";
  $("new-service").replaceChildren(...state.data.services.map((s) => element("option", { value: s.id }, s.name)));
  $("new-staff").replaceChildren(element("option", { value: "any" }, "Anyone free"),
    ...state.data.staff.map((s) => element("option", { value: s.id }, s.name)));
  if (state.me.staff) $("new-staff").value = state.me.staff;
  $("new-start").value = start;
  $("new-error").textContent = "";
  $("new-dialog").showModal();
}

/// A walk-in starts now: the current minute on the shop's wall clock (a walk-in is not bound to the start grid
/// nor to the minimum notice; the daemon still keeps it inside the barber's hours and clear of other bookings).
function walkInStart() {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: state.me.time_zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date());
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const wall = new Date(Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute")));
  return wall.toISOString().slice(0, 16);
}

async function book(event) {
  event.preventDefault();
  const phone = $("new-phone").value.trim();
  const notes = $("new-notes").value.trim();
  try {
    const created = await api("POST", "/admin/api/bookings", {
      service: $("new-service").value, staff: $("new-staff").value, start: $("new-start").value,
      customer: { name: $("new-name").value, ...(phone ? { phone } : {}) }, ...(notes ? { notes } : {}),
      ...(state.walkIn ? { walk_in: true } : {}),
    });
    $("new-dialog").close();
    $("message").textContent = `Booked ${created.id}.`;
    scheduleReload();
  } catch (error) {
    $("new-error").textContent = error.message;
  }
}

async function find(event) {
  event.preventDefault();
  const results = $("find-results");
  try {
    const answer = await api("GET", `/admin/api/find?q=${encodeURIComponent($("find").value)}`);
    const list = element("ul", { class: "results", "aria-label": "Found bookings" });
    for (const b of answer.bookings) {
      list.append(element("li", {}, element("button", { type: "button", onclick: () => openBooking(b.id) },
        `${b.start.slice(0, 10)} ${localTime(b.start)} ${b.customer.name} · ${b.status} · ${b.id}`)));
    }
    results.replaceChildren(answer.bookings.length ? list : element("p", {}, "Nothing found."));
  } catch (error) {
    results.replaceChildren(element("p", { class: "error" }, error.message));
  }
}

function shiftDate(days) {
  const date = new Date(state.date + "T12:00:00Z");
  date.setUTCDate(date.getUTCDate() + days);
  state.date = date.toISOString().slice(0, 10);
  load().catch(showError);
}

// MARK: - The rule editor

const rules = { files: [], timer: null, checked: null };

async function loadRules() {
  if (state.me.role !== "admin") { $("rules-view").hidden = true; return; }
  const answer = await api("GET", "/admin/api/rules");
  rules.files = answer.files;
  $("rules-view").hidden = false;
  $("rules-state").textContent = answer.editable ? "" : `Read only: ${answer.reason}`;
  for (const id of ["rule-save", "rule-restore"]) $(id).disabled = !answer.editable;
  const current = $("rule-file").value;
  $("rule-file").replaceChildren(...answer.files.map((f) => element("option", { value: f.name }, f.name)));
  if (current && answer.files.some((f) => f.name === current)) $("rule-file").value = current;
  showRuleFile();
}

function showRuleFile() {
  const file = rules.files.find((f) => f.name === $("rule-file").value);
  $("rule-text").value = file ? file.text : "";
  $("rule-diagnostics").replaceChildren();
  $("rule-preview-result").replaceChildren();
  numberLines([]);
  loadHistory().catch(showError);
}

function numberLines(diagnostics) {
  const count = $("rule-text").value.split("\n").length;
  const marks = new Map(diagnostics.map((d) => [d.line, d.severity]));
  const gutter = $("rule-lines");
  gutter.replaceChildren();
  for (let line = 1; line <= count; line += 1) {
    const severity = marks.get(line);
    gutter.append(element("span", { class: severity === "error" ? "bad" : severity ? "warn" : "",
      dataset: { line: String(line) } }, String(line)), "\n");
  }
  const text = $("rule-text");
  text.style.height = "auto";
  text.style.height = `${text.scrollHeight}px`;
}

/// The editor's text sent to the rule check, preview or save, as file `name`.
function ruleCall(what, name) {
  return api("POST", `/admin/api/rules/${what}?name=${encodeURIComponent(name)}`, { text: $("rule-text").value });
}

async function checkRules() {
  const name = $("rule-file").value;
  const result = await ruleCall("check", name);
  rules.checked = result;
  const mine = result.diagnostics.filter((d) => d.file === name);
  numberLines(mine);
  $("rule-diagnostics").replaceChildren(...result.diagnostics.map((d) =>
    element("li", { class: d.severity, dataset: { line: String(d.line) } },
      `Line ${d.line}, column ${d.column}: ${d.severity}: ${d.message}${d.fix ? " — " + d.fix : ""}`
      + (d.file !== name ? ` (${d.file})` : ""))));
  return result;
}

function scheduleCheck() {
  numberLines(rules.checked ? rules.checked.diagnostics.filter((d) => d.file === $("rule-file").value) : []);
  clearTimeout(rules.timer);
  rules.timer = setTimeout(() => checkRules().catch(showError), 400);
}

async function previewRules() {
  const name = $("rule-file").value;
  const target = $("rule-preview-result");
  try {
    const result = await ruleCall("preview", name);
    const counts = result.counts;
    const rows = result.no_longer_allowed.map((b) => element("tr", {},
      element("td", {}, `${b.start.slice(0, 10)} ${localTime(b.start)}`), element("td", {}, staffName(b.staff)),
      element("td", {}, b.customer), element("td", {}, b.id), element("td", {}, b.reason.message)));
    target.replaceChildren(element("div", { class: "preview" },
      element("h3", {}, `Next ${result.days} days: ${counts.gained} starts gained, ${counts.lost} lost, `
        + `${counts.no_longer_allowed} bookings no longer allowed`),
      rows.length ? element("table", {}, element("caption", {}, "Bookings the new rules would not allow"),
        element("thead", {}, element("tr", {}, ...["Start", "Barber", "Customer", "Booking", "Reason"].map((h) =>
          element("th", { scope: "col" }, h)))), element("tbody", {}, ...rows)) : null));
  } catch (error) {
    target.replaceChildren(element("p", { class: "error" }, error.message));
  }
}

async function saveRules() {
  const name = $("rule-file").value;
  try {
    const saved = await ruleCall("save", name);
    await loadRules();
    $("rules-state").textContent = `Saved ${name}: rules ${saved.version} in force`
      + (saved.conflicts ? `, ${saved.conflicts} bookings no longer allowed.` : ".");
    scheduleReload();
  } catch (error) {
    $("rules-state").textContent = `Not saved: ${error.message}`;
    await checkRules().catch(() => {});
  }
}

async function loadHistory() {
  const name = $("rule-file").value;
  if (!name) return;
  const answer = await api("GET", `/admin/api/rules/history?name=${encodeURIComponent(name)}`);
  $("rule-history").replaceChildren(...answer.versions.map((v) =>
    element("option", { value: v.version }, new Date(v.saved_at * 1000).toLocaleString())));
  $("rule-restore").disabled = answer.versions.length === 0 || $("rule-save").disabled;
}

async function restoreRules() {
  const name = $("rule-file").value, version = $("rule-history").value;
  try {
    const query = `name=${encodeURIComponent(name)}&version=${encodeURIComponent(version)}`;
    await api("POST", `/admin/api/rules/restore?${query}`);
    await loadRules();
    $("rules-state").textContent = `Restored the earlier ${name}.`;
    scheduleReload();
  } catch (error) {
    $("rules-state").textContent = `Not restored: ${error.message}`;
  }
}

// MARK: - Wiring

$("rule-file").addEventListener("change", showRuleFile);
$("rule-text").addEventListener("input", scheduleCheck);
$("rule-preview").addEventListener("click", previewRules);
$("rule-save").addEventListener("click", saveRules);
$("rule-restore").addEventListener("click", restoreRules);

$("login-form").addEventListener("submit", login);
$("logout").addEventListener("click", logout);
$("prev").addEventListener("click", () => shiftDate(-state.days));
$("next").addEventListener("click", () => shiftDate(state.days));
$("today").addEventListener("click", () => { state.date = state.me.today; load().catch(showError); });
$("date").addEventListener("change", () => {
  if ($("date").value) { state.date = $("date").value; load().catch(showError); }
});
$("view-toggle").addEventListener("click", () => {
  state.days = state.days === 1 ? 7 : 1;
  $("view-toggle").textContent = state.days === 1 ? "Week" : "Day";
  $("view-toggle").setAttribute("aria-pressed", String(state.days === 7));
  load().catch(showError);
});
$("new-booking").addEventListener("click", () => openNew(`${state.date}T10:00`));
$("walk-in").addEventListener("click", () => openNew(walkInStart(), true));
$("new-form").addEventListener("submit", book);
$("move-form").addEventListener("submit", move);
$("note-form").addEventListener("submit", saveNote);
$("find-form").addEventListener("submit", find);
for (const button of $("booking-actions").querySelectorAll("button")) {
  button.addEventListener("click", () => act(button.dataset.action));
}
for (const close of document.querySelectorAll("[data-close]")) {
  close.addEventListener("click", () => close.closest("dialog").close());
}

// `data-ready` tells the browser tests the first view is drawn (the login or the day).
api("GET", "/admin/api/me").then((me) => { state.me = me; return start(); }).catch(() => showLogin(""))
  .finally(() => { document.body.dataset.ready = "true"; });
