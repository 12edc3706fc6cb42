// onhand admin dashboard: one page, no build step, nothing loaded from elsewhere.
// It talks to the JSON API of this server with the admin token kept in localStorage.
"use strict";

const PAGE_SIZE = 20;
const LEDGER_ROWS = 15;
const MAX_EVENTS = 60;
const STORE = { token: "onhand.token", tenant: "onhand.tenant" };
const HINTS = {
  receipt: "Goods arrive: on hand goes up. Decimal input such as 2.5 kg works for items with units.",
  ship: "Goods leave the building: on hand goes down. Refused if it would take stock that is not available.",
  transfer: "Move units from one location to another in one step.",
  count: "Set on hand to what you counted on the shelf; the difference is booked as the variance.",
  damage: "Move units from available to damaged (they stay on hand until written off).",
  adjustment: "Correct on hand by a signed quantity: 5 adds, -3 removes.",
};
const FIGURE_STATES = ["damaged", "quality_control", "safety_stock", "in_transit", "incoming"];

const state = {
  token: "",
  tenant: "",
  items: [],            // the current page of items, with their availability
  cursors: [0],         // `after` cursor of each page seen so far
  page: 0,
  nextCursor: null,
  selected: null,       // SKU shown in the detail card
  locations: [],
  events: null,         // the EventSource
  retry: 5,             // seconds before reconnecting the live feed
  retryTimer: null,
  refreshTimers: new Map(),
};

// ---- small helpers ----------------------------------------------------------------------

const $ = (sel, root = document) => root.querySelector(sel);
const numberFormat = new Intl.NumberFormat();
const timeFormat = new Intl.DateTimeFormat(undefined,
  { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

/** Build an element: h("td", {class: "num"}, "12"). Children are text, never HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function fmt(n, unit) {
  if (n === null || n === undefined) return "∞";
  const text = numberFormat.format(n);
  return unit && unit !== "each" ? `${text} ${unit}` : text;
}

function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : timeFormat.format(d);
}

function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function toast(message, kind = "ok") {
  const el = $("#toast");
  el.textContent = message;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 4000);
}

class ApiError extends Error {
  constructor(status, body) {
    const problem = typeof body === "object" && body ? body : {};
    super(problem.detail || problem.title || `The server answered ${status}.`);
    this.status = status;
    this.problem = problem;
  }
}

/** Call /v1/{tenant}{path}; throws ApiError carrying the problem+json document. */
async function api(path, options = {}) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${state.token}` };
  if (options.body) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(`v1/${encodeURIComponent(state.tenant)}${path}`,
      { ...options, headers: { ...headers, ...(options.headers || {}) } });
  } catch (err) {
    throw new ApiError(0, { detail: "The server cannot be reached. Is onhand still running?" });
  }
  const type = res.headers.get("content-type") || "";
  const body = type.includes("json") ? await res.json() : await res.text();
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

const sku = (s) => encodeURIComponent(s);

// ---- signing in ---------------------------------------------------------------------------

function readFragment() {
  // `#token=…&tenant=demo[&item=SKU]` signs in directly (used by `onhand demo` and screenshots);
  // the token is removed from the address bar at once.
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get("token")) {
    localStorage.setItem(STORE.token, params.get("token"));
    localStorage.setItem(STORE.tenant, params.get("tenant") || "demo");
  }
  const item = params.get("item");
  history.replaceState(null, "", location.pathname + location.search + (item ? `#item=${sku(item)}` : ""));
  return item;
}

function showSignIn(message) {
  $("#app").hidden = true;
  $("#sign-out").hidden = true;
  $("#live-status").hidden = true;
  $("#tenant-name").hidden = true;
  $("#sign-in").hidden = false;
  const form = $("#sign-in-form");
  form.tenant.value = localStorage.getItem(STORE.tenant) || "demo";
  const error = $("#sign-in-error");
  error.hidden = !message;
  error.textContent = message || "";
  form.token.focus();
}

async function start(initialItem) {
  state.token = localStorage.getItem(STORE.token) || "";
  state.tenant = localStorage.getItem(STORE.tenant) || "demo";
  if (!state.token) return showSignIn();
  try {
    const { locations } = await api("/locations");
    state.locations = locations;
  } catch (err) {
    const why = err.status === 401 ? "This token is unknown or revoked."
      : err.status === 403 ? `This token may not manage tenant “${state.tenant}” (it needs the admin scope of that tenant).`
      : err.message;
    return showSignIn(why);
  }
  $("#sign-in").hidden = true;
  $("#app").hidden = false;
  $("#sign-out").hidden = false;
  $("#live-status").hidden = false;
  const tenantName = $("#tenant-name");
  tenantName.textContent = state.tenant;
  tenantName.hidden = false;
  fillLocations();
  setMoveType("receipt");
  await loadItems();
  if (initialItem) selectItem(initialItem);
  connectLive();
}

function signOut() {
  localStorage.removeItem(STORE.token);
  if (state.events) state.events.close();
  clearTimeout(state.retryTimer);
  state.events = null;
  state.selected = null;
  showSignIn();
}

// ---- the item table ------------------------------------------------------------------------

function filters() {
  const params = new URLSearchParams({ limit: PAGE_SIZE, after: state.cursors[state.page] });
  const q = $("#search").value.trim();
  const kind = $("#kind").value;
  if (q) params.set("q", q);
  if (kind) params.set("kind", kind);
  return params;
}

async function loadItems() {
  const body = $("#items-body");
  body.setAttribute("aria-busy", "true");
  if (!state.items.length) {
    const empty = $("#items-empty");
    empty.replaceChildren(h("span", {}, "Loading items…"));
    empty.hidden = false;
  }
  try {
    const page = await api(`/items?${filters()}`);
    const figures = page.items.length
      ? (await api(`/availability?skus=${page.items.map((i) => sku(i.sku)).join(",")}`)).availability
      : [];
    const bySku = new Map(figures.map((f) => [f.sku, f]));
    state.items = page.items.map((item) => ({ ...item, figures: bySku.get(item.sku) || {} }));
    state.nextCursor = page.next_cursor;
    renderItems();
    updateSkuList();
  } catch (err) {
    state.items = [];
    renderItems(err.message);
  } finally {
    body.removeAttribute("aria-busy");
  }
}

function stockLevel(item, figures) {
  const available = figures.available;
  if (available === null || available === undefined) return "unlimited";
  if (available <= 0) return "out";
  if (item.low_stock_threshold !== null && available <= item.low_stock_threshold) return "low";
  return "ok";
}

function levelPill(level, item) {
  if (level === "out") return h("span", { class: "pill bad", title: "Nothing available to sell" }, "sold out");
  if (level === "low") {
    return h("span", { class: "pill warn", title: `At or below the low-stock threshold of ${fmt(item.low_stock_threshold, item.unit)}` }, "low");
  }
  return null;
}

function itemRow(item) {
  const f = item.figures;
  const level = stockLevel(item, f);
  const row = h("tr", {
    class: item.sku === state.selected ? "selected" : null,
    tabindex: "0",
    dataset: { sku: item.sku },
    onclick: () => selectItem(item.sku),
    onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); selectItem(item.sku); } },
  },
  h("td", { class: "item" },
    h("span", { class: "name" }, item.name),
    h("span", { class: "sku" }, item.sku)),
  h("td", { class: "opt" }, h("span", { class: `kind kind-${item.kind}` }, item.kind)),
  h("td", { class: "num available" }, h("span", { class: "figure" }, fmt(f.available, item.unit)), levelPill(level, item)),
  h("td", { class: "num" }, item.kind === "digital" || item.kind === "pod" ? "—" : fmt(f.on_hand, item.unit)),
  h("td", { class: "num opt" }, fmt(f.reserved ?? 0, item.unit)),
  h("td", { class: "num opt" }, fmt(f.committed ?? 0, item.unit)));
  return row;
}

function renderItems(error) {
  const body = $("#items-body");
  body.replaceChildren(...state.items.map(itemRow));
  const empty = $("#items-empty");
  const q = $("#search").value.trim();
  const kind = $("#kind").value;
  if (error) {
    empty.replaceChildren(h("strong", {}, "The items could not be loaded"), h("span", {}, error));
  } else if (!state.items.length && (q || kind)) {
    empty.replaceChildren(
      h("strong", {}, "No items match"),
      h("span", {}, q ? `Nothing has “${q}” in its SKU or name${kind ? ` among ${kind} items` : ""}.` : `There are no ${kind} items.`),
      h("button", { type: "button", class: "ghost", onclick: clearFilters }, "Clear the filters"));
  } else if (!state.items.length) {
    empty.replaceChildren(
      h("strong", {}, "No items yet"),
      h("span", {}, "Create one with POST /v1/{tenant}/items, or load the sample with onhand demo."));
  }
  empty.hidden = Boolean(state.items.length) && !error;
  $("#prev").disabled = state.page === 0;
  $("#next").disabled = state.nextCursor === null || state.nextCursor === undefined;
  $("#page-info").textContent = state.items.length ? `Page ${state.page + 1}` : "";
}

function clearFilters() {
  $("#search").value = "";
  $("#kind").value = "";
  resetPaging();
}

function resetPaging() {
  state.cursors = [0];
  state.page = 0;
  loadItems();
}

function updateSkuList() {
  const list = $("#sku-list");
  const known = new Set([...list.options].map((o) => o.value));
  for (const item of state.items) {
    if (!known.has(item.sku) && (item.kind === "physical" || item.kind === "licensed")) {
      list.append(h("option", { value: item.sku }, item.name));
    }
  }
}

// ---- the item detail ------------------------------------------------------------------------

async function selectItem(code) {
  state.selected = code;
  history.replaceState(null, "", `${location.pathname}${location.search}#item=${sku(code)}`);
  for (const row of $("#items-body").rows) row.classList.toggle("selected", row.dataset.sku === code);
  await renderDetail(code);
}

async function renderDetail(code) {
  const card = $("#detail");
  card.setAttribute("aria-busy", "true");
  try {
    const [item, figures, ledger] = await Promise.all([
      api(`/items/${sku(code)}`),
      api(`/availability/${sku(code)}`),
      api(`/ledger?sku=${sku(code)}&limit=${LEDGER_ROWS}`),
    ]);
    if (state.selected !== code) return;
    card.replaceChildren(...detailContent(item, figures, ledger.entries));
    // Only stocked items take movements: prefill the form for those.
    if (item.kind === "physical" || item.kind === "licensed") $("#move-form").sku.value = item.sku;
  } catch (err) {
    if (state.selected !== code) return;
    card.replaceChildren(h("div", { class: "empty tall" },
      h("strong", {}, err.status === 404 ? `There is no item ${code}` : "The item could not be loaded"),
      h("span", {}, err.message)));
  } finally {
    card.removeAttribute("aria-busy");
  }
}

function tile(label, value, extra) {
  return h("div", { class: `tile ${extra || ""}` }, h("span", { class: "label" }, label), h("span", { class: "value" }, value));
}

function detailContent(item, f, entries) {
  const unit = item.unit;
  const level = stockLevel(item, f);
  const head = h("div", { class: "detail-head" },
    h("div", {},
      h("h2", {}, item.name),
      h("div", { class: "meta" },
        h("span", { class: "sku" }, item.sku),
        h("span", { class: `kind kind-${item.kind}` }, item.kind),
        item.barcode ? h("span", { class: "muted" }, `barcode ${item.barcode}`) : null,
        item.active ? null : h("span", { class: "pill bad" }, "inactive"))),
    levelPill(level, item));

  const tiles = h("div", { class: "tiles" },
    tile("Available", fmt(f.available, unit), `level-${level}`),
    tile(item.kind === "pod" ? "Capacity today" : "On hand",
      item.kind === "pod" ? fmt(f.capacity?.capacity, unit) : item.kind === "digital" ? "—" : fmt(f.on_hand, unit)),
    tile("Reserved", fmt(f.reserved ?? 0, unit)),
    tile("Committed", fmt(f.committed ?? 0, unit)));

  const notes = [];
  if (item.low_stock_threshold !== null) notes.push(`low stock at ${fmt(item.low_stock_threshold, unit)}`);
  if (item.reorder_point !== null) notes.push(`reorder point ${fmt(item.reorder_point, unit)}`);
  if (Object.keys(item.units || {}).length) {
    notes.push(`accepts ${Object.entries(item.units).map(([u, n]) => `${u} (= ${fmt(n, unit)})`).join(", ")}`);
  }
  if (item.allow_backorder) notes.push("backorders allowed");
  const attributes = Object.entries(item.attributes || {}).slice(0, 6);
  const about = h("dl", { class: "attributes" },
    attributes.flatMap(([k, v]) => [h("dt", {}, k.replaceAll("_", " ")), h("dd", {}, Array.isArray(v) ? v.join(", ") : String(v))]));

  const sections = [head, tiles];
  if (notes.length) sections.push(h("p", { class: "muted small notes" }, notes.join(" · ")));
  if (attributes.length) sections.push(about);

  if (item.kind === "bundle") {
    sections.push(h("h3", {}, "Components"), table(["Component", "Per kit", "Available"],
      (f.components || []).map((c) => [h("button", { type: "button", class: "link", onclick: () => selectItem(c.sku) }, c.sku), c.qty, fmt(c.available)])));
  } else if (item.kind === "digital") {
    sections.push(h("p", { class: "callout" }, "A digital item never runs out: sales are recorded, nothing is counted."));
  } else if (item.kind === "pod") {
    const cap = f.capacity || {};
    sections.push(h("p", { class: "callout" },
      `Printed on demand: ${fmt(cap.capacity)} a day. Today (${cap.day || "?"}) ${fmt(cap.reserved)} reserved, ${fmt(cap.committed)} committed.`));
  } else {
    // Damaged, quality control, safety stock and transfers on the way, where there are any.
    const others = (l) => FIGURE_STATES.filter((s) => l[s])
      .map((s) => `${fmt(l[s], unit)} ${s.replaceAll("_", " ")}`).join(" · ");
    sections.push(h("h3", {}, "By location"));
    sections.push((f.locations || []).length
      ? table(["Location", "Available", "On hand", "Reserved", "Committed"],
        f.locations.map((l) => [
          h("span", {}, l.location, l.zone ? h("span", { class: "zone" }, l.zone) : null,
            others(l) ? h("span", { class: "also" }, others(l)) : null),
          fmt(l.available, unit), fmt(l.on_hand, unit), fmt(l.reserved, unit), fmt(l.committed, unit)]),
        "", ["Reserved", "Committed"])
      : h("div", { class: "empty small" }, "No stock anywhere yet. Post a receipt below to put some on a shelf."));
  }

  sections.push(h("h3", {}, "Latest ledger entries"));
  if (item.kind === "bundle") {
    sections.push(h("div", { class: "empty small" }, "A bundle has no stock of its own: its components' ledgers show what happened."));
    return sections;
  }
  sections.push(entries.length
    ? table(["When", "Location", "Change", "Why"], entries.map((e) => ledgerCells(e, unit)), "ledger", ["Location"])
    : h("div", { class: "empty small" }, "Nothing has happened to this item yet."));
  return sections;
}

function ledgerCells(e, unit) {
  const direction = e.delta > 0 ? "up" : e.delta < 0 ? "down" : "";
  return [
    when(e.created_at),
    e.location,
    h("span", {},
      h("span", { class: `delta ${direction}` }, `${e.delta > 0 ? "+" : ""}${fmt(e.delta, unit)}`),
      e.state === "on_hand" ? null : h("span", { class: "state" }, e.state.replaceAll("_", " "))),
    h("span", { class: "why" },
      h("span", {}, e.reason.replaceAll("_", " ")),
      e.reference ? h("span", { class: "muted" }, e.reference) : null),
  ];
}

/** A compact table; columns named in `optional` are hidden on narrow screens. */
function table(headers, rows, extraClass = "", optional = []) {
  const numeric = (i) => i > 0 && !["Location", "Why", "When", "Component"].includes(headers[i]);
  const cls = (i) => [numeric(i) ? "num" : "", optional.includes(headers[i]) ? "opt" : ""].join(" ").trim() || null;
  return h("div", { class: "table-wrap" }, h("table", { class: `compact ${extraClass}` },
    h("thead", {}, h("tr", {}, headers.map((t, i) => h("th", { scope: "col", class: cls(i) }, t)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c, i) => h("td", { class: cls(i) }, c)))))));
}

// ---- posting a movement ---------------------------------------------------------------------

function fillLocations() {
  const options = () => state.locations.map((l) =>
    h("option", { value: l.code }, `${l.code} — ${l.name}`));
  const form = $("#move-form");
  form.location.replaceChildren(...options());
  form.to.replaceChildren(...options());
  const bins = state.locations.filter((l) => l.parent);
  if (bins.length) form.location.value = bins[0].code;
  if (bins.length > 1) form.to.value = bins.find((l) => l.zone !== bins[0].zone)?.code || bins[1].code;
}

function setMoveType(type) {
  const form = $("#move-form");
  for (const label of form.querySelectorAll("[data-for]")) {
    label.hidden = !label.dataset.for.split(" ").includes(type);
  }
  $("#move-hint").textContent = HINTS[type];
  $("#move-error").hidden = true;
}

function quantity(value) {
  const text = value.trim();
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

async function postMovement(event) {
  event.preventDefault();
  const form = event.target;
  const type = form.type.value;
  const body = { type, sku: form.sku.value.trim(), location: form.location.value };
  if (type === "transfer") body.to = form.to.value;
  if (type === "count") body.counted = quantity(form.counted.value);
  else if (form.qty.value.trim()) body.qty = quantity(form.qty.value);
  if (type === "receipt" && form.unit_cost.value.trim()) body.unit_cost = form.unit_cost.value.trim();
  if (form.reference.value.trim()) body.reference = form.reference.value.trim();
  if (type === "count" && body.counted === "") delete body.counted;

  const error = $("#move-error");
  error.hidden = true;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const done = await api("/movements", {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "Idempotency-Key": crypto.randomUUID ? crypto.randomUUID() : String(Date.now() + Math.random()) },
    });
    const moved = done.type === "count" ? `counted ${fmt(done.counted)}` : `${fmt(done.qty)}`;
    toast(`${done.type} of ${done.sku} at ${done.location}: ${moved} — ${done.entries.length} ledger ${done.entries.length === 1 ? "entry" : "entries"}`);
    form.qty.value = "";
    form.counted.value = "";
    refreshSku(done.sku);
  } catch (err) {
    const problem = err.problem || {};
    error.replaceChildren(
      h("strong", {}, problem.title || "The movement was refused"),
      h("span", {}, err.message),
      // Several invalid fields: list them one per line under the summary.
      ...((problem.errors || []).length > 1
        ? problem.errors.map((e) => h("span", { class: "small" }, `${e.field}: ${e.message}`)) : []));
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

// ---- keeping figures fresh ------------------------------------------------------------------

/** Refetch one SKU's figures (debounced per SKU) and update its row and the detail card. */
function refreshSku(code) {
  clearTimeout(state.refreshTimers.get(code));
  state.refreshTimers.set(code, setTimeout(async () => {
    state.refreshTimers.delete(code);
    const index = state.items.findIndex((i) => i.sku === code);
    if (index >= 0) {
      try {
        const figures = await api(`/availability/${sku(code)}`);
        state.items[index] = { ...state.items[index], figures };
        const row = $("#items-body").rows[index];
        if (row && row.dataset.sku === code) {
          const fresh = itemRow(state.items[index]);
          fresh.classList.add("flash");
          row.replaceWith(fresh);
        }
      } catch { /* the next event or reload will catch up */ }
    }
    // A bundle's figures follow its components: refresh any bundle on the page too.
    for (const item of state.items) {
      if (item.kind === "bundle" && item.sku !== code && (item.components || []).some((c) => c.sku === code)) refreshSku(item.sku);
    }
    if (state.selected === code) renderDetail(code);
  }, 250));
}

// ---- the live feed (Server-Sent Events) ----------------------------------------------------

// The server names each SSE event after its type; unnamed ones arrive as "message".
const EVENT_NAMES = ["stock.changed", "stock.low", "stock.out", "stock.back_in", "availability",
  "reservation.created", "reservation.committed", "reservation.released", "reservation.expired",
  "reservation.extended"];

function setLive(stateName, text, note = "") {
  const el = $("#live-status");
  el.dataset.state = stateName;
  $(".text", el).textContent = text;
  $("#live-note").textContent = note;
}

function eventsUrl() {
  return `v1/${encodeURIComponent(state.tenant)}/events?access_token=${encodeURIComponent(state.token)}`;
}

function connectLive() {
  clearTimeout(state.retryTimer);
  if (state.events) state.events.close();
  if (!window.EventSource) return setLive("off", "No live feed", "This browser lacks EventSource.");
  setLive("connecting", "Connecting…");
  const source = new EventSource(eventsUrl());
  state.events = source;
  source.onopen = () => { state.retry = 5; setLive("on", "Live", "Figures update as stock changes."); };
  source.onmessage = onLiveEvent;
  for (const name of EVENT_NAMES) source.addEventListener(name, onLiveEvent);
  source.onerror = () => {
    if (source.readyState === EventSource.CONNECTING) {
      setLive("connecting", "Reconnecting…");
      return;
    }
    source.close();
    diagnoseLive();
  };
}

async function diagnoseLive() {
  // EventSource hides the status code; ask once with fetch to say what went wrong.
  let status = 0;
  const controller = new AbortController();
  try {
    const res = await fetch(eventsUrl(), { signal: controller.signal, headers: { Accept: "text/event-stream" } });
    status = res.status;
  } catch { /* unreachable: status stays 0 */ }
  controller.abort();
  const wait = state.retry;
  state.retry = Math.min(state.retry * 2, 120);
  if (status === 404) {
    setLive("off", "Live feed unavailable", `This server has no event stream yet; trying again in ${wait} s.`);
  } else if (status === 401 || status === 403) {
    setLive("off", "Live feed refused", `The event stream refused the token (${status}); trying again in ${wait} s.`);
  } else {
    setLive("off", "Live feed lost", `Reconnecting in ${wait} s.`);
  }
  state.retryTimer = setTimeout(connectLive, wait * 1000);
}

function eventLabel(type, data) {
  // A stock change says why (receipt, ship, reserve, …); other events say what they are.
  if (type === "stock.changed" && data.reason) return data.reason.replaceAll("_", " ");
  return (type || "change").replace(/^stock\./, "").replace(".", " ").replaceAll("_", " ");
}

function onLiveEvent(message) {
  let data;
  try { data = JSON.parse(message.data); } catch { return; }
  if (!data || typeof data !== "object") return;
  const type = data.type || message.type;
  const list = $("#events");
  const lines = Array.isArray(data.lines) ? data.lines : [];
  const skuLink = (code) => h("button", { type: "button", class: "link", onclick: () => selectItem(code) }, code);
  const what = data.sku
    ? [skuLink(data.sku), data.location ? h("span", { class: "muted" }, ` at ${data.location}`) : null]
    : lines.flatMap((l, i) => [i ? ", " : null, skuLink(l.sku), h("span", { class: "muted" }, ` ×${fmt(l.qty)}`)]);
  const figure = data.sku && data.available !== undefined ? `${fmt(data.available)} available` : "";
  const entry = h("li", { class: "event" },
    h("time", { datetime: data.at || "" }, clockFormat.format(data.at ? new Date(data.at) : new Date())),
    h("span", { class: "what" }, what),
    h("span", { class: "type" }, eventLabel(type, data)),
    h("span", { class: "num" }, figure));
  list.prepend(entry);
  while (list.children.length > MAX_EVENTS) list.lastChild.remove();
  $("#events-empty").hidden = true;
  // A stock event names its SKU; a reservation event lists the SKUs of its lines.
  const skus = data.sku ? [data.sku] : (Array.isArray(data.lines) ? data.lines.map((l) => l.sku) : []);
  for (const code of new Set(skus.filter(Boolean))) refreshSku(code);
}

// ---- wiring ---------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("#sign-in-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const form = e.target;
    localStorage.setItem(STORE.token, form.token.value.trim());
    localStorage.setItem(STORE.tenant, form.tenant.value.trim());
    form.token.value = "";
    start(null);
  });
  $("#sign-out").addEventListener("click", signOut);
  $("#search").addEventListener("input", debounce(resetPaging, 250));
  $("#kind").addEventListener("change", resetPaging);
  $("#prev").addEventListener("click", () => { if (state.page > 0) { state.page -= 1; loadItems(); } });
  $("#next").addEventListener("click", () => {
    if (state.nextCursor === null || state.nextCursor === undefined) return;
    state.cursors[state.page + 1] = state.nextCursor;
    state.page += 1;
    loadItems();
  });
  const form = $("#move-form");
  form.addEventListener("submit", postMovement);
  form.addEventListener("change", (e) => { if (e.target.name === "type") setMoveType(e.target.value); });
  const item = readFragment();
  start(item);
});
