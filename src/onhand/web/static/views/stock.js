// Stock: every item with every state, filters and sorting, per-location figures, item and
// location forms, and the movement form with every movement type.

import { allItems, figuresOf, stockable, stockLevel, stocked } from "../lib/catalog.js";
import { lineChart } from "../lib/chart.js";
import { dataTable, day, debounce, empty, field, fmt, h, newKey, problemBox, toast, when, words } from "../lib/dom.js";

export const title = "Stock";

const STATES = ["available", "on_hand", "reserved", "committed", "damaged", "quality_control", "safety_stock", "incoming", "in_transit"];
const LABELS = { on_hand: "On hand", quality_control: "QC", safety_stock: "Safety", in_transit: "In transit" };
const label = (s) => LABELS[s] || s[0].toUpperCase() + s.slice(1);
const OPTIONAL = new Set(["reserved", "committed", "damaged", "quality_control", "safety_stock", "incoming", "in_transit"]);

// Each movement type: what it does and which fields it needs.
const TYPES = {
  receipt: { hint: "Goods arrive: on hand goes up.", fields: ["qty", "unit_cost"] },
  ship: { hint: "Goods leave the building: on hand goes down.", fields: ["qty"] },
  transfer: { hint: "Move units to another location; tick “arrives later” to keep them in transit.", fields: ["to", "qty", "in_transit"] },
  transfer_receive: { hint: "Units in transit arrive at this location.", fields: ["qty"] },
  count: { hint: "Set on hand to what is on the shelf; the difference is booked as the variance.", fields: ["counted"] },
  damage: { hint: "Available units become damaged (still on hand until written off).", fields: ["qty"] },
  write_off: { hint: "Damaged units leave the books.", fields: ["qty"] },
  return: { hint: "A customer return comes back on hand.", fields: ["qty", "to_state"] },
  quality_hold: { hint: "Set units apart for quality control.", fields: ["qty"] },
  quality_release: { hint: "Units pass quality control and become available again.", fields: ["qty"] },
  adjustment: { hint: "Correct on hand by a signed quantity: 5 adds, -3 removes.", fields: ["qty"] },
  safety_stock: { hint: "Set the units kept back as safety stock here.", fields: ["qty"] },
};
// A receipt or return this many times the item's usual one asks for confirmation first.
const SUSPICIOUS = 100;

export async function render(root, ctx) {
  const { api, params } = ctx;
  const state = {
    items: [], figures: new Map(), locations: [], usual: new Map(),
    q: params.get("q") || "", kind: params.get("kind") || "", location: params.get("location") || "",
    level: params.get("level") || "", selected: params.get("item") || "",
  };
  const listCard = h("section", { class: "card" });
  const detail = h("section", { class: "card detail-card", "aria-live": "polite" });
  const moveCard = h("section", { class: "card" });
  const manage = h("section", { class: "card" });
  root.append(h("div", { class: "split stock" },
    h("div", { class: "col" }, listCard),
    h("div", { class: "col" }, detail, moveCard, manage)));

  const search = h("input", { type: "search", placeholder: "Search SKU or name", "aria-label": "Search", value: state.q });
  const kind = h("select", { "aria-label": "Kind" }, h("option", { value: "" }, "All kinds"),
    ["physical", "digital", "licensed", "pod", "bundle"].map((k) => h("option", { value: k }, k)));
  const where = h("select", { "aria-label": "Location", name: "filter-location" });
  const level = h("select", { "aria-label": "Level", name: "filter-level" },
    h("option", { value: "" }, "Any level"), h("option", { value: "low" }, "Low"),
    h("option", { value: "out" }, "Out"), h("option", { value: "reorder" }, "Below reorder point"));
  kind.value = state.kind;
  level.value = state.level;
  const tableBox = h("div");
  const count = h("span", { class: "muted small" });
  listCard.append(h("div", { class: "card-head" }, h("h2", {}, "Items"), count,
    h("div", { class: "tools wrap" }, search, kind, where, level)), tableBox);

  function keepParams() {
    ctx.setParams(Object.fromEntries(Object.entries({ q: state.q, kind: state.kind, location: state.location, level: state.level, item: state.selected }).filter(([, v]) => v)));
  }

  /** The figures a row shows: totals, or one location's when the filter names one. */
  function rowFigures(item) {
    const doc = state.figures.get(item.sku) || {};
    if (!state.location) return doc;
    return (doc.locations || []).find((l) => l.location === state.location) || {};
  }

  function visible() {
    const q = state.q.toLowerCase();
    return state.items.filter((item) => {
      if (q && !item.sku.toLowerCase().includes(q) && !item.name.toLowerCase().includes(q)) return false;
      if (state.kind && item.kind !== state.kind) return false;
      const f = rowFigures(item);
      if (state.location && f.on_hand === undefined) return false;
      const lvl = stockLevel(item, f);
      if (state.level === "low" && lvl !== "low") return false;
      if (state.level === "out" && lvl !== "out") return false;
      if (state.level === "reorder" && !(item.reorder_point !== null && f.available !== null && f.available !== undefined && f.available <= item.reorder_point)) return false;
      return true;
    });
  }

  function pill(item, f) {
    const lvl = stockLevel(item, f);
    if (lvl === "out") return h("span", { class: "pill bad" }, "out");
    if (lvl === "low") return h("span", { class: "pill warn" }, "low");
    return null;
  }

  function drawTable() {
    const rows = visible();
    count.textContent = `${rows.length} of ${state.items.length}${state.location ? ` · at ${state.location}` : ""}`;
    const columns = [
      { label: "Item", sort: (r) => r.sku, cell: (r) => h("span", { class: "item" }, h("span", { class: "name" }, r.name),
        h("span", { class: "sku" }, r.sku, r.kind === "physical" ? null : h("span", { class: `kind kind-${r.kind}` }, r.kind))) },
      ...STATES.map((s) => ({
        label: label(s), num: true, opt: OPTIONAL.has(s), sort: (r) => rowFigures(r)[s] ?? Infinity,
        cell: (r) => {
          const f = rowFigures(r);
          if (s === "available") return h("span", { class: "figure" }, fmt(f.available, r.unit), pill(r, f));
          return r.kind === "digital" && s === "on_hand" ? "—" : fmt(f[s] ?? 0, r.unit);
        },
      })),
    ];
    tableBox.replaceChildren(rows.length
      ? dataTable(columns, rows, {
        sortable: true, cls: "items",
        rowClass: (r) => (r.sku === state.selected ? "selected" : null),
        onRow: (r) => select(r.sku),
      })
      : empty("No items match", "Change or clear the filters.",
        h("button", { type: "button", class: "ghost", onclick: clearFilters }, "Clear the filters")));
    for (const tr of tableBox.querySelectorAll("tbody tr")) tr.dataset.sku = tr.querySelector(".sku")?.textContent || "";
  }

  function clearFilters() {
    Object.assign(state, { q: "", kind: "", location: "", level: "" });
    search.value = ""; kind.value = ""; where.value = ""; level.value = "";
    keepParams();
    drawTable();
  }

  async function load() {
    const [items, { locations }] = await Promise.all([allItems(api), api.get("/locations")]);
    state.items = items;
    state.locations = locations;
    state.figures = await figuresOf(api, items.map((i) => i.sku));
    where.replaceChildren(h("option", { value: "" }, "All locations"),
      locations.map((l) => h("option", { value: l.code }, l.code)));
    where.value = state.location;
    drawTable();
    drawMoveForm();
    drawManage();
  }

  // ---- detail ----

  async function select(sku) {
    state.selected = sku;
    keepParams();
    for (const tr of tableBox.querySelectorAll("tbody tr")) tr.classList.toggle("selected", tr.dataset.sku === sku);
    await drawDetail(sku);
    const form = moveCard.querySelector("form");
    const item = state.items.find((i) => i.sku === sku);
    if (form && item && stocked(item)) {
      form.sku.value = sku;
      form.sku.dispatchEvent(new Event("input")); // the lot or serial fields follow the item
    }
    // On a phone the detail is below the list: bring it to where the user is looking.
    if (window.matchMedia("(max-width: 1020px)").matches) detail.scrollIntoView({ block: "start" });
  }

  async function drawDetail(sku) {
    if (!sku) {
      detail.replaceChildren(empty("No item selected", "Pick an item to see its stock per location and its latest ledger entries."));
      return;
    }
    try {
      const [item, f, ledger] = await Promise.all([
        api.get(`/items/${encodeURIComponent(sku)}`), api.get(`/availability/${encodeURIComponent(sku)}`),
        api.get("/ledger", { sku, limit: 12 }),
      ]);
      if (state.selected !== sku) return;
      state.figures.set(sku, f);
      const unit = item.unit;
      const lvl = stockLevel(item, f);
      const notes = [];
      if (item.low_stock_threshold !== null) notes.push(`low stock at ${fmt(item.low_stock_threshold, unit)}`);
      if (item.reorder_point !== null) notes.push(`reorder point ${fmt(item.reorder_point, unit)}`);
      if (item.allow_backorder) notes.push("backorders allowed");
      detail.replaceChildren(
        h("div", { class: "detail-head" },
          h("div", {}, h("h2", {}, item.name),
            h("div", { class: "meta" }, h("span", { class: "sku" }, item.sku), h("span", { class: `kind kind-${item.kind}` }, item.kind),
              item.active ? null : h("span", { class: "pill bad" }, "inactive"))),
          h("button", { type: "button", class: "ghost", onclick: () => editItem(item) }, "Edit")),
        h("div", { class: "tiles" },
          h("div", { class: `tile level-${lvl}` }, h("span", { class: "label" }, "Available"), h("span", { class: "value", "data-figure": "available" }, fmt(f.available, unit))),
          h("div", { class: "tile" }, h("span", { class: "label" }, "On hand"), h("span", { class: "value", "data-figure": "on_hand" }, item.kind === "digital" ? "—" : fmt(f.on_hand, unit))),
          h("div", { class: "tile" }, h("span", { class: "label" }, "Incoming"), h("span", { class: "value" }, fmt(f.incoming ?? 0, unit))),
          h("div", { class: "tile" }, h("span", { class: "label" }, "Reserved"), h("span", { class: "value" }, fmt(f.reserved ?? 0, unit)))),
        ...(notes.length ? [h("p", { class: "muted small notes" }, notes.join(" · "))] : []),
        h("h3", {}, "By location"),
        (f.locations || []).length
          ? dataTable([{ label: "Location", key: "location" }, ...STATES.map((s) => ({ label: label(s), num: true, opt: OPTIONAL.has(s) && s !== "reserved", cell: (r) => fmt(r[s] ?? 0, unit) }))], f.locations, { cls: "compact" })
          : h("div", { class: "empty small" }, item.kind === "bundle" ? "A bundle has no stock of its own." : "No stock anywhere yet."),
        ...(item.tracking === "lot" || f.lots ? lotBreakdown(item, f.lots || []) : []),
        h("h3", {}, "Latest ledger entries"),
        ledger.entries.length
          ? dataTable([
            { label: "When", cell: (e) => when(e.created_at) },
            { label: "Location", key: "location", opt: true },
            { label: "Change", num: true, cell: (e) => h("span", { class: `delta ${e.delta > 0 ? "up" : e.delta < 0 ? "down" : ""}` }, `${e.delta > 0 ? "+" : ""}${fmt(e.delta, unit)}`) },
            { label: "State", cell: (e) => words(e.state) },
            { label: "Why", cell: (e) => words(e.reason) },
          ], ledger.entries, { cls: "compact" })
          : h("div", { class: "empty small" }, "Nothing has happened to this item yet."),
        ...(stocked(item) ? [h("h3", {}, "On hand, last 90 days"), h("div", { class: "chart", dataset: { chart: "stock" } }),
          h("h3", {}, "Sold a day, and the forecast"), h("div", { class: "chart", dataset: { chart: "forecast" } })] : []),
        h("p", {}, h("a", { href: `/dashboard/history?sku=${encodeURIComponent(sku)}`, onclick: (e) => { e.preventDefault(); ctx.navigate("history", { sku }); } }, "Full history →")));
      await drawCharts(item, f);
    } catch (err) {
      if (state.selected === sku) detail.replaceChildren(empty(err.status === 404 ? `There is no item ${sku}` : "The item could not be loaded", err.message));
    }
  }

  /** Each lot with stock, first to expire first; a lot opens its trace in the Lots view. */
  function lotBreakdown(item, lots) {
    const unit = item.unit;
    const open = (l) => (e) => { e.preventDefault(); ctx.navigate("lots", { sku: item.sku, lot: l.lot }); };
    return [h("h3", {}, "By lot"), lots.length
      ? dataTable([
        { label: "Lot", cell: (l) => h("span", { class: "lot" },
          h("a", { href: `/dashboard/lots?sku=${encodeURIComponent(item.sku)}&lot=${encodeURIComponent(l.lot)}`, onclick: open(l), dataset: { lot: l.lot } }, l.lot),
          l.sellable ? null : h("span", { class: "pill bad" }, "not for sale"),
          h("span", { class: "where" }, l.expires_on ? `use by ${day(l.expires_on)}` : "no use-by date"),
          h("span", { class: "where", title: l.locations.map((p) => `${p.location} ${fmt(p.on_hand, unit)}`).join(", ") },
            "on hand ", h("span", { dataset: { figure: `lot/${l.lot}/on_hand` } }, fmt(l.on_hand, unit)),
            l.locations.length ? `: ${l.locations.map((p) => `${p.location} ${fmt(p.on_hand, unit)}`).join(" · ")}` : "")) },
        { label: "Available", num: true, cell: (l) => h("span", { dataset: { figure: `lot/${l.lot}/available` } }, fmt(l.available, unit)) },
        { label: "In QC", num: true, cell: (l) => h("span", { dataset: { figure: `lot/${l.lot}/quality_control` } }, fmt(l.quality_control, unit)) },
      ], lots, { cls: "compact lots" })
      : h("div", { class: "empty small" }, "No lot of this item is in stock.")];
  }

  // ---- charts ----

  let charts = [];

  async function drawCharts(item, figures) {
    for (const destroy of charts) destroy();
    charts = [];
    const stockBox = detail.querySelector('[data-chart="stock"]');
    const forecastBox = detail.querySelector('[data-chart="forecast"]');
    if (!stockBox) return;
    // The forecast of the location the list is filtered by, when the item is kept there;
    // otherwise of the item's demand at all its locations together.
    const here = (figures.locations || []).some((l) => l.location === state.location) ? state.location : null;
    const [s, fc] = await Promise.all([
      api.get(`/console/items/${encodeURIComponent(item.sku)}/series`, { days: 90 }),
      api.get(`/items/${encodeURIComponent(item.sku)}/forecast`, here ? { location: here } : {}),
    ]);
    if (state.selected !== item.sku) return;
    charts.push(await lineChart(stockBox, s.dates, Object.entries(s.on_hand).map(([code, values]) => ({ label: code, values }))));
    // Actual daily demand (the history the model learned from) for the last 90 days, then
    // the forecast day by day with its prediction interval as a shaded band.
    const past = fc.actual.slice(-90);
    const ahead = fc.forecast;
    const blank = (n) => Array(n).fill(null);
    const dates = [...past.map((a) => a.date), ...ahead.map((f) => f.date)];
    const sold = [...past.map((a) => a.demand), ...blank(ahead.length)];
    const mean = [...blank(past.length), ...ahead.map((f) => f.mean)];
    const lo = [...blank(past.length), ...ahead.map((f) => f.lo)];
    const hi = [...blank(past.length), ...ahead.map((f) => f.hi)];
    const pct = Math.round(fc.level * 100);
    const band = "rgba(232,89,12,.16)";
    forecastBox.dataset.model = fc.model;
    forecastBox.dataset.days = String(ahead.length);
    charts.push(await lineChart(forecastBox, dates, [
      { label: "sold", values: sold },
      { label: "forecast", values: mean, dash: [6, 4], color: "#e8590c" },
      { label: `${pct} % low`, values: lo, color: "rgba(232,89,12,.45)", width: 1 },
      { label: `${pct} % high`, values: hi, color: "rgba(232,89,12,.45)", width: 1 },
    ], { bands: [{ series: [4, 3], fill: band }] }));
    forecastBox.append(h("p", { class: "muted small", "data-note": "forecast" }, fc.model === "none"
      ? "Nothing sold on a day it was in stock yet, so the forecast is zero."
      : `${here ? `At ${here}` : "All locations"} · model ${fc.model.replaceAll("+", " + ")} · ` +
        `next 7 days ${fmt(Math.round(ahead.slice(0, 7).reduce((t, f) => t + f.mean, 0)), item.unit)} ` +
        `(${pct} % interval per day shaded)`));
  }

  // ---- movement form ----

  function drawMoveForm() {
    const bins = stockable(state.locations);
    const binOptions = () => bins.map((l) => h("option", { value: l.code }, `${l.code} — ${l.name}`));
    const type = h("select", { name: "type", "aria-label": "Movement type" }, Object.keys(TYPES).map((t) => h("option", { value: t }, words(t))));
    const hint = h("p", { class: "hint" });
    const form = h("form", { class: "form", novalidate: true },
      h("div", { class: "fields" },
        field("Type", type),
        field("SKU", h("input", { name: "sku", list: "stock-skus", required: true, spellcheck: "false", placeholder: "BOOK-DUNE", value: state.selected })),
        field("Location", h("select", { name: "location" }, binOptions())),
        field("To", h("select", { name: "to" }, binOptions()), "f-to"),
        field("Quantity", h("input", { name: "qty", inputmode: "decimal", placeholder: "12 or 2.5 kg" }), "f-qty"),
        field("Counted", h("input", { name: "counted", inputmode: "decimal", placeholder: "on the shelf" }), "f-counted"),
        field("Unit cost", h("input", { name: "unit_cost", inputmode: "decimal", placeholder: "optional" }), "f-unit_cost"),
        field("Returned as", h("select", { name: "to_state" }, h("option", { value: "" }, "available"), h("option", { value: "damaged" }, "damaged"), h("option", { value: "quality_control" }, "quality control")), "f-to_state"),
        h("label", { class: "f-in_transit check" }, h("input", { type: "checkbox", name: "in_transit" }), "arrives later (in transit)"),
        field("Lot", h("input", { name: "lot", maxlength: "64", spellcheck: "false", placeholder: "lot code" }), "f-lot"),
        field("Expires on", h("input", { name: "expires_on", type: "date" }), "f-expires_on"),
        field("Serial numbers", h("input", { name: "serials", spellcheck: "false", placeholder: "SN-1, SN-2 (one per unit)" }), "f-serials wide"),
        field("Reference", h("input", { name: "reference", maxlength: "200", placeholder: "optional, e.g. PO-2026-0042" }), "wide")),
      hint,
      h("div", { class: "form-error" }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Post movement")),
      h("datalist", { id: "stock-skus" }, state.items.filter(stocked).map((i) => h("option", { value: i.sku }, i.name))));
    if (bins.length > 1) form.to.value = bins[1].code;
    const setType = () => {
      const spec = TYPES[type.value];
      for (const f of ["to", "qty", "counted", "unit_cost", "to_state", "in_transit"]) {
        form.querySelector(`.f-${f}`).hidden = !spec.fields.includes(f);
      }
      // A lot item moves with its lot (a receipt may give its expiry); a serial item with the
      // serial number of each unit.
      const tracking = trackingOf(form.sku.value.trim());
      form.querySelector(".f-lot").hidden = tracking !== "lot";
      form.querySelector(".f-expires_on").hidden = !(tracking === "lot" && type.value === "receipt");
      form.querySelector(".f-serials").hidden = tracking !== "serial";
      hint.textContent = spec.hint + (tracking === "lot" && type.value === "receipt"
        ? " Without a lot code the lot gets one."
        : tracking === "serial" ? " List the serial numbers; the quantity follows from them." : "");
    };
    type.addEventListener("change", setType);
    form.sku.addEventListener("input", setType);
    setType();
    form.addEventListener("submit", (e) => { e.preventDefault(); postMovement(form); });
    moveCard.replaceChildren(h("div", { class: "card-head" }, h("h2", {}, "Post a movement")), form);
  }

  function trackingOf(sku) {
    const item = state.items.find((i) => i.sku === sku);
    return item ? item.tracking || "none" : "none";
  }

  async function usualQty(sku, type) {
    // The item's usual quantity for this kind of movement, from its recent ledger.
    const key = `${sku}/${type}`;
    if (!state.usual.has(key)) {
      const { entries } = await api.get("/ledger", { sku, limit: 200 });
      const reason = type === "return" ? "return" : "receipt";
      const sizes = entries.filter((e) => e.reason === reason && e.delta > 0).map((e) => e.delta).sort((a, b) => a - b);
      state.usual.set(key, sizes.length ? sizes[Math.floor(sizes.length / 2)] : null);
    }
    return state.usual.get(key);
  }

  async function postMovement(form) {
    const type = form.type.value;
    const spec = TYPES[type];
    const quantity = (v) => (/^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v.trim());
    const body = { type, sku: form.sku.value.trim(), location: form.location.value };
    if (spec.fields.includes("to")) body.to = form.to.value;
    if (spec.fields.includes("qty") && form.qty.value.trim()) body.qty = quantity(form.qty.value);
    if (spec.fields.includes("counted") && form.counted.value.trim()) body.counted = quantity(form.counted.value);
    if (spec.fields.includes("unit_cost") && form.unit_cost.value.trim()) body.unit_cost = form.unit_cost.value.trim();
    if (spec.fields.includes("to_state") && form.to_state.value) body.to_state = form.to_state.value;
    if (spec.fields.includes("in_transit") && form.in_transit.checked) body.in_transit = true;
    if (form.reference.value.trim()) body.reference = form.reference.value.trim();
    const tracking = trackingOf(body.sku);
    const lot = form.lot.value.trim();
    if (tracking === "lot" && type === "receipt" && (lot || form.expires_on.value)) {
      body.lot = { ...(lot ? { code: lot } : {}), ...(form.expires_on.value ? { expires_on: form.expires_on.value } : {}) };
    } else if (tracking === "lot" && lot) {
      body.lot = lot;
    }
    const serials = form.serials.value.split(/[\s,]+/).filter(Boolean);
    if (tracking === "serial" && serials.length) body.serials = serials;
    const error = form.querySelector(".form-error");
    error.replaceChildren();
    if ((type === "receipt" || type === "return") && typeof body.qty === "number" && body.sku) {
      const usual = await usualQty(body.sku, type).catch(() => null);
      if (usual && body.qty >= usual * SUSPICIOUS
        && !window.confirm(`${fmt(body.qty)} is ${Math.round(body.qty / usual)}× the usual ${words(type)} of ${body.sku} (${fmt(usual)}). Post it anyway?`)) {
        error.replaceChildren(h("div", { class: "callout" }, "Not posted: the quantity was not confirmed."));
        return;
      }
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const done = await api.post("/movements", body, { "Idempotency-Key": newKey() });
      toast(`${words(done.type)} of ${done.sku} at ${done.location}: ${done.entries.length} ledger ${done.entries.length === 1 ? "entry" : "entries"}`);
      form.qty.value = "";
      form.counted.value = "";
      form.serials.value = "";
      await refresh(done.sku);
    } catch (err) {
      error.replaceChildren(problemBox(err, "The movement was refused"));
    } finally {
      button.disabled = false;
    }
  }

  // ---- items and locations ----

  function drawManage() {
    manage.replaceChildren(h("div", { class: "card-head" }, h("h2", {}, "Catalogue"),
      h("div", { class: "tools" },
        h("button", { type: "button", class: "ghost", onclick: () => editItem(null) }, "New item"),
        h("button", { type: "button", class: "ghost", onclick: newLocation }, "New location"))),
      h("h3", {}, "Locations"),
      state.locations.length
        ? dataTable([
          // Two columns fit the narrow side column; parent and zone ride on the code line.
          { label: "Location", cell: (l) => h("span", { class: "item" }, h("span", { class: "name" }, l.name),
            h("span", { class: "sku" }, l.parent ? `${l.code} · in ${l.parent}` : l.code, l.zone ? [" ", h("span", { class: "kind" }, l.zone)] : null)) },
          { label: "", num: true, cell: (l) => h("button", { type: "button", class: "ghost", dataset: { action: "edit-location", code: l.code }, onclick: () => editLocation(l) }, "Edit") },
        ], state.locations, { cls: "compact locations" })
        : h("div", { class: "empty small" }, "No locations yet: start with a warehouse."));
  }

  /** The codes of a location and of everything inside it, however deep. */
  function within(code) {
    const found = new Set([code]);
    for (let grew = true; grew;) {
      grew = false;
      for (const l of state.locations) {
        if (l.parent && found.has(l.parent) && !found.has(l.code)) { found.add(l.code); grew = true; }
      }
    }
    return found;
  }

  function editLocation(loc) {
    // The API refuses a parent inside the location (a loop), so such places are not offered.
    const inside = within(loc.code);
    const form = h("form", { class: "form", novalidate: true, dataset: { form: "edit-location" } },
      h("div", { class: "fields" },
        field("Code", h("input", { name: "code", value: loc.code, disabled: true, spellcheck: "false" })),
        field("Name", h("input", { name: "name", required: true, value: loc.name })),
        field("Inside", h("select", { name: "parent" }, h("option", { value: "" }, "— (a warehouse)"),
          state.locations.filter((l) => !inside.has(l.code)).map((l) => h("option", { value: l.code }, l.code)))),
        field("Zone", h("input", { name: "zone", value: loc.zone || "" })),
        field("Priority", h("input", { name: "priority", inputmode: "numeric", value: String(loc.priority) }))),
      h("div", { class: "form-error" }),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "ghost", onclick: drawManage }, "Cancel"),
        h("button", { type: "submit", class: "primary" }, "Save location")));
    form.parent.value = loc.parent || "";
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      // Only what changed is sent, so a save never undoes another person's edit of the rest.
      const priority = form.priority.value.trim();
      const wanted = {
        name: form.name.value.trim(),
        parent: form.parent.value || null,
        zone: form.zone.value.trim() || null,
        // Not a whole number: sent as typed, for the API to say what is wrong with it.
        priority: /^\d+$/.test(priority) ? Number(priority) : priority,
      };
      const body = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => v !== (loc[k] ?? null)));
      if (!Object.keys(body).length) {
        toast(`Nothing to change in ${loc.code}`);
        drawManage();
        return;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const saved = await api.patch(`/locations/${encodeURIComponent(loc.code)}`, body);
        toast(`Saved location ${saved.code}`);
        state.locations = (await api.get("/locations")).locations;
        drawManage();
        drawMoveForm(); // its lists name the locations and offer only those that hold stock
      } catch (err) {
        form.querySelector(".form-error").replaceChildren(problemBox(err, "The location was not saved"));
      } finally {
        button.disabled = false;
      }
    });
    manage.replaceChildren(h("div", { class: "card-head" }, h("h2", {}, `Edit location ${loc.code}`)), form);
    manage.scrollIntoView({ block: "nearest" });
    form.name.focus();
  }

  function editItem(item) {
    const isNew = !item;
    const form = h("form", { class: "form", novalidate: true, dataset: { form: "item" } },
      h("div", { class: "fields" },
        field("SKU", h("input", { name: "sku", required: true, value: item?.sku || "", disabled: !isNew, spellcheck: "false" })),
        field("Name", h("input", { name: "name", required: true, value: item?.name || "" })),
        isNew ? field("Kind", h("select", { name: "kind" }, ["physical", "digital", "licensed", "pod"].map((k) => h("option", { value: k }, k)))) : null,
        isNew ? field("Unit", h("input", { name: "unit", value: "each" })) : null,
        field("Low-stock threshold", h("input", { name: "low_stock_threshold", inputmode: "numeric", value: item?.low_stock_threshold ?? "" })),
        field("Reorder point", h("input", { name: "reorder_point", inputmode: "numeric", value: item?.reorder_point ?? "" })),
        field("Unit cost", h("input", { name: "unit_cost", inputmode: "decimal", value: item?.unit_cost ?? "" })),
        h("label", { class: "check" }, h("input", { type: "checkbox", name: "allow_backorder", checked: Boolean(item?.allow_backorder) }), "allow backorders"),
        isNew ? null : h("label", { class: "check" }, h("input", { type: "checkbox", name: "active", checked: item.active }), "active")),
      h("div", { class: "form-error" }),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "ghost", onclick: drawManage }, "Cancel"),
        h("button", { type: "submit", class: "primary" }, isNew ? "Create item" : "Save")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const int = (v) => (v.trim() === "" ? null : /^\d+$/.test(v.trim()) ? Number(v.trim()) : v.trim());
      const body = {
        name: form.name.value.trim(),
        low_stock_threshold: int(form.low_stock_threshold.value),
        reorder_point: int(form.reorder_point.value),
        allow_backorder: form.allow_backorder.checked,
      };
      if (form.unit_cost.value.trim()) body.unit_cost = form.unit_cost.value.trim();
      if (isNew) Object.assign(body, { sku: form.sku.value.trim(), kind: form.kind.value, unit: form.unit.value.trim() || "each" });
      else body.active = form.active.checked;
      if (isNew && body.kind === "pod") body.capacity_per_day = 1;
      try {
        const saved = isNew ? await api.post("/items", body) : await api.patch(`/items/${encodeURIComponent(item.sku)}`, body);
        toast(`${isNew ? "Created" : "Saved"} ${saved.sku}`);
        const index = state.items.findIndex((i) => i.sku === saved.sku);
        if (index >= 0) state.items[index] = saved; else state.items.push(saved);
        drawManage();
        drawMoveForm();
        await refresh(saved.sku);
        await select(saved.sku);
      } catch (err) {
        form.querySelector(".form-error").replaceChildren(problemBox(err, "The item was not saved"));
      }
    });
    manage.replaceChildren(h("div", { class: "card-head" }, h("h2", {}, isNew ? "New item" : `Edit ${item.sku}`)), form);
    manage.scrollIntoView({ block: "nearest" });
    form.querySelector(isNew ? "input[name=sku]" : "input[name=name]").focus();
  }

  function newLocation() {
    const form = h("form", { class: "form", novalidate: true, dataset: { form: "location" } },
      h("div", { class: "fields" },
        field("Code", h("input", { name: "code", required: true, spellcheck: "false" })),
        field("Name", h("input", { name: "name", required: true })),
        field("Inside", h("select", { name: "parent" }, h("option", { value: "" }, "— (a warehouse)"), state.locations.map((l) => h("option", { value: l.code }, l.code)))),
        field("Zone", h("input", { name: "zone" })),
        field("Priority", h("input", { name: "priority", inputmode: "numeric", value: "100" }))),
      h("div", { class: "form-error" }),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "ghost", onclick: drawManage }, "Cancel"),
        h("button", { type: "submit", class: "primary" }, "Create location")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { code: form.code.value.trim(), name: form.name.value.trim(), priority: Number(form.priority.value) || 0 };
      if (form.parent.value) body.parent = form.parent.value;
      if (form.zone.value.trim()) body.zone = form.zone.value.trim();
      try {
        const made = await api.post("/locations", body);
        toast(`Created location ${made.code}`);
        state.locations = (await api.get("/locations")).locations;
        where.append(h("option", { value: made.code }, made.code));
        drawManage();
        drawMoveForm();
      } catch (err) {
        form.querySelector(".form-error").replaceChildren(problemBox(err, "The location was not created"));
      }
    });
    manage.replaceChildren(h("div", { class: "card-head" }, h("h2", {}, "New location")), form);
    form.code.focus();
  }

  // ---- live ----

  const pending = new Set();
  const flush = debounce(async () => {
    const skus = [...pending];
    pending.clear();
    const fresh = await figuresOf(api, skus).catch(() => new Map());
    for (const [sku, doc] of fresh) state.figures.set(sku, doc);
    drawTable();
    if (skus.includes(state.selected)) drawDetail(state.selected);
  }, 120);

  async function refresh(sku) {
    pending.add(sku);
    flush();
  }

  ctx.onEvent((event) => {
    const skus = event.sku ? [event.sku] : (event.lines || []).map((l) => l.sku);
    for (const sku of skus) if (sku && state.items.some((i) => i.sku === sku)) pending.add(sku);
    if (pending.size) flush();
  });

  search.addEventListener("input", debounce(() => { state.q = search.value.trim(); keepParams(); drawTable(); }, 200));
  kind.addEventListener("change", () => { state.kind = kind.value; keepParams(); drawTable(); });
  where.addEventListener("change", () => { state.location = where.value; keepParams(); drawTable(); });
  level.addEventListener("change", () => { state.level = level.value; keepParams(); drawTable(); });

  tableBox.replaceChildren(h("div", { class: "empty" }, "Loading items…"));
  await load();
  await drawDetail(state.selected);
  return () => { for (const destroy of charts) destroy(); };
}
