// Suppliers: terms and measured performance (on-time, fill rate, lead time), with a chart.

import { card, dataTable, empty, h, pct } from "../lib/dom.js";

export const title = "Suppliers";

export async function render(root, ctx) {
  const { api } = ctx;
  const { suppliers } = await api.get("/suppliers");
  const perf = await Promise.all(suppliers.map((s) => api.get(`/suppliers/${encodeURIComponent(s.code)}/performance`)));
  const rows = suppliers.map((s, i) => ({ ...s, perf: perf[i] }));
  const days = (v) => (v === null || v === undefined ? "—" : `${Number(v).toFixed(1)} d`);
  root.append(card("Suppliers", null, rows.length
    ? dataTable([
      { label: "Supplier", sort: (r) => r.code, cell: (r) => h("span", { class: "item" }, h("span", { class: "name" }, r.name), h("span", { class: "sku" }, r.code)) },
      { label: "Receipts", num: true, sort: (r) => r.perf.receipts, cell: (r) => r.perf.receipts },
      { label: "On time", num: true, sort: (r) => r.perf.on_time_rate ?? -1, cell: (r) => pct(r.perf.on_time_rate) },
      { label: "Fill rate", num: true, sort: (r) => r.perf.fill_rate ?? -1, cell: (r) => pct(r.perf.fill_rate) },
      { label: "Lead time", num: true, cell: (r) => `${days(r.perf.lead_time_days_mean)} ± ${days(r.perf.lead_time_days_std)}` },
      { label: "Promised", num: true, opt: true, cell: (r) => `${days(r.lead_time_days)} ± ${days(r.lead_time_std_days)}` },
      { label: "MOQ / pack", num: true, opt: true, cell: (r) => `${r.moq} / ${r.pack_size}` },
    ], rows, { sortable: true })
    : empty("No suppliers yet", "Create one with POST /v1/{tenant}/suppliers.")));

  // The chart: measured against promised lead time, and the two rates, one row a supplier.
  const max = Math.max(1, ...rows.map((r) => Math.max(r.lead_time_days + r.lead_time_std_days, (r.perf.lead_time_days_mean ?? 0) + (r.perf.lead_time_days_std ?? 0))));
  const bar = (value, scale, cls, label) => h("span", { class: `hbar ${cls}`, title: label },
    h("span", { class: "fill", dataset: { w: Math.round(Math.min(1, (value ?? 0) / scale) * 100) } }));
  const chart = h("div", { class: "bars" }, rows.map((r) => h("div", { class: "bars-row" },
    h("span", { class: "sku" }, r.code),
    h("span", { class: "bars-cell" },
      bar(r.lead_time_days, max, "promised", `promised ${days(r.lead_time_days)}`),
      bar(r.perf.lead_time_days_mean, max, "measured", `measured ${days(r.perf.lead_time_days_mean)}`)),
    h("span", { class: "bars-cell" },
      bar(r.perf.on_time_rate, 1, "ontime", `on time ${pct(r.perf.on_time_rate)}`),
      bar(r.perf.fill_rate, 1, "fill", `fill rate ${pct(r.perf.fill_rate)}`)))));
  // Widths through the CSSOM (the CSP forbids style attributes).
  for (const fill of chart.querySelectorAll(".fill")) fill.style.width = `${fill.dataset.w}%`;
  root.append(card("Lead time and reliability", h("span", { class: "muted small" }, "lead time: promised / measured · rates: on time / fill"),
    rows.some((r) => r.perf.receipts) ? null : h("p", { class: "muted small" }, "No purchase-order receipts yet: the measured figures appear after the first deliveries."),
    chart));
}
