// History: the ledger with filters, cursor pages, the running balance and CSV export.

import { card, dataTable, download, empty, field, fmt, h, when, words } from "../lib/dom.js";

export const title = "History";

const FILTERS = ["sku", "location", "reason", "state", "since", "until"];
const REASONS = ["receipt", "ship", "transfer", "transfer_receive", "count", "adjustment", "damage", "write_off", "return", "quality_hold", "quality_release", "safety_stock", "reserve", "release", "commit", "expire", "po", "po_receipt"];
const STATES = ["on_hand", "reserved", "committed", "damaged", "quality_control", "safety_stock", "incoming", "in_transit"];

export async function render(root, ctx) {
  const { api } = ctx;
  const filters = Object.fromEntries(FILTERS.map((k) => [k, ctx.params.get(k) || ""]));
  const pages = [null]; // `before` cursor of each page seen
  let page = 0;
  let next = null;
  const { locations } = await api.get("/locations");

  const select = (name, options) => h("select", { name }, h("option", { value: "" }, `any ${name}`), options.map((o) => h("option", { value: o }, words(o))));
  const form = h("form", { class: "form", novalidate: true },
    h("div", { class: "fields three" },
      field("SKU", h("input", { name: "sku", spellcheck: "false", placeholder: "BOOK-DUNE" })),
      field("Location", select("location", locations.map((l) => l.code))),
      field("Reason", h("input", { name: "reason", list: "history-reasons", spellcheck: "false", placeholder: "any reason" })),
      field("State", select("state", STATES)),
      field("From", h("input", { name: "since", type: "date" })),
      field("To", h("input", { name: "until", type: "date" })),
      h("datalist", { id: "history-reasons" }, REASONS.map((r) => h("option", { value: r })))),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "ghost", "data-action": "csv", onclick: exportCsv }, "CSV"),
      h("button", { type: "submit", class: "primary" }, "Show")));
  for (const k of FILTERS) form[k].value = filters[k];
  const box = h("div");
  const error = h("div", { class: "form-error" });
  const prev = h("button", { type: "button", class: "ghost", "data-action": "prev", onclick: () => { if (page > 0) { page -= 1; load(); } } }, "← Newer");
  const nextButton = h("button", { type: "button", class: "ghost", "data-action": "next", onclick: () => { if (next) { pages[page + 1] = next; page += 1; load(); } } }, "Older →");
  const info = h("span", { class: "muted small", "data-page": "" });
  root.append(card("Filters", null, form), card("Ledger", null, error, box, h("div", { class: "pager" }, prev, info, nextButton)));

  function query() {
    return Object.fromEntries(FILTERS.map((k) => [k, form[k].value.trim()]).filter(([, v]) => v));
  }

  async function load() {
    error.replaceChildren();
    try {
      const doc = await api.get("/console/history", { ...query(), before: pages[page], limit: 50 });
      next = doc.next_before;
      box.replaceChildren(doc.entries.length
        ? dataTable([
          { label: "When", cell: (e) => when(e.created_at) },
          { label: "Item", cell: (e) => h("span", { class: "sku" }, e.sku) },
          { label: "Location", key: "location", opt: true },
          { label: "State", opt: true, cell: (e) => words(e.state) },
          { label: "Change", num: true, cell: (e) => h("span", { class: `delta ${e.delta > 0 ? "up" : e.delta < 0 ? "down" : ""}` }, `${e.delta > 0 ? "+" : ""}${fmt(e.delta, e.unit)}`) },
          { label: "Balance", num: true, cell: (e) => h("span", { class: "balance" }, fmt(e.balance, e.unit)) },
          { label: "Why", cell: (e) => words(e.reason) },
          { label: "Reference", key: "reference", opt: true },
        ], doc.entries, { cls: "history" })
        : empty("No ledger rows", "Nothing matches these filters."));
      for (const [i, tr] of [...box.querySelectorAll("tbody tr")].entries()) tr.dataset.id = doc.entries[i].id;
    } catch (err) {
      error.replaceChildren(h("div", { class: "callout error" }, h("strong", {}, "The ledger could not be read"), h("span", {}, err.message)));
      next = null;
    }
    prev.disabled = page === 0;
    nextButton.disabled = !next;
    info.textContent = `Page ${page + 1}`;
    info.dataset.page = String(page + 1);
  }

  async function exportCsv() {
    try {
      download("ledger.csv", await api.text("/console/history.csv", query()));
    } catch (err) {
      error.replaceChildren(h("div", { class: "callout error" }, err.message));
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.setParams(query());
    pages.length = 1;
    page = 0;
    load();
  });
  await load();
}
