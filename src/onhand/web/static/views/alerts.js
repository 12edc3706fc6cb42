// Alerts: items out, low or below their reorder point now, and the latest alert events.

import { card, dataTable, empty, fmt, h, when, words } from "../lib/dom.js";

export const title = "Alerts";

export async function render(root, ctx) {
  const { api } = ctx;
  const nowBox = h("div");
  const recentBox = h("div");
  root.append(card("Needs attention", null, nowBox), card("Latest alerts", null, recentBox));
  const open = (r) => ctx.navigate("stock", { item: r.sku });

  async function load() {
    const doc = await api.get("/console/alerts");
    nowBox.replaceChildren(doc.current.length
      ? dataTable([
        { label: "Item", sort: (r) => r.sku, cell: (r) => h("span", { class: "item" }, h("span", { class: "name" }, r.name), h("span", { class: "sku" }, r.sku)) },
        { label: "Level", sort: (r) => r.level, cell: (r) => h("span", { class: `pill ${r.level === "out" ? "bad" : "warn"}` }, words(r.level)) },
        { label: "Available", num: true, key: "available", cell: (r) => fmt(r.available) },
        { label: "Low at", num: true, opt: true, cell: (r) => (r.low_stock_threshold === null ? "—" : fmt(r.low_stock_threshold)) },
        { label: "Reorder point", num: true, opt: true, cell: (r) => (r.reorder_point === null ? "—" : fmt(r.reorder_point)) },
        { label: "Since", opt: true, cell: (r) => when(r.since) },
      ], doc.current, { sortable: true, onRow: open })
      : empty("All clear", "No item is out, low or below its reorder point."));
    recentBox.replaceChildren(doc.events.length
      ? dataTable([
        { label: "When", cell: (e) => when(e.at) },
        { label: "Alert", cell: (e) => words(e.type.replace("stock.", "")) },
        { label: "Item", cell: (e) => h("span", { class: "sku" }, e.sku) },
        { label: "Available", num: true, cell: (e) => fmt(e.available) },
      ], doc.events, { onRow: open })
      : empty("No alerts yet", "Alerts appear when an item runs out, gets low or falls below its reorder point."));
  }
  ctx.onEvent((e) => { if (["stock.out", "stock.low", "stock.back_in"].includes(e.type)) load(); });
  await load();
}
