// Home: what needs attention today. Low and out of stock, urgent reorders, returns, and
// days of cover by item × location (red where a stock-out comes inside the lead time).

import { allItems, figuresOf, stockLevel } from "../lib/catalog.js";
import { card, dataTable, empty, fmt, h, money, words } from "../lib/dom.js";

export const title = "Home";

export async function render(root, ctx) {
  const { api } = ctx;
  const grid = h("div", { class: "grid-tiles" });
  const wide = h("div");
  root.append(grid, wide);
  const item = (r) => h("span", { class: "item" }, h("span", { class: "name" }, r.name), h("span", { class: "sku" }, r.sku));
  const openItem = (r) => ctx.navigate("stock", { item: r.sku });

  const [items, suggestions, returns, cover] = await Promise.all([
    allItems(api),
    api.get("/console/plan").then(({ run }) => (run ? api.get("/plan/suggestions", { urgent: "true", limit: 50 }) : null)),
    api.get("/console/tiles/returns"),
    api.get("/console/tiles/cover"),
  ]);
  const figures = await figuresOf(api, items.map((i) => i.sku));

  // Low and out of stock, from each item's own threshold.
  const low = items.map((i) => ({ ...i, f: figures.get(i.sku) || {}, level: stockLevel(i, figures.get(i.sku)) }))
    .filter((r) => r.level === "low" || r.level === "out");
  grid.append(h("section", { class: "card", dataset: { tile: "low" } },
    h("div", { class: "card-head" }, h("h2", {}, "Low and out of stock"),
      h("span", { class: "muted small" }, `${low.filter((r) => r.level === "out").length} out · ${low.filter((r) => r.level === "low").length} low`)),
    low.length
      ? dataTable([
        { label: "Item", sort: (r) => r.sku, cell: item },
        { label: "Available", num: true, sort: (r) => r.f.available, cell: (r) => h("span", { class: "figure" }, fmt(r.f.available, r.unit), h("span", { class: `pill ${r.level === "out" ? "bad" : "warn"}` }, r.level)) },
      ], low, { onRow: openItem, sortable: true })
      : empty("Nothing is low", "Every item is above its low-stock threshold.")));

  // Urgent reorders from the last plan.
  const urgent = suggestions ? suggestions.suggestions.filter((s) => !s.purchase_order) : [];
  grid.append(h("section", { class: "card", dataset: { tile: "urgent" } },
    h("div", { class: "card-head" }, h("h2", {}, "Urgent reorders"),
      h("a", { href: "/dashboard/planning?urgent=true", onclick: (e) => { e.preventDefault(); ctx.navigate("planning", { urgent: "true" }); } }, "Planning →")),
    !suggestions ? empty("No plan yet", "Run the plan under Planning to see what to buy.")
      : urgent.length
        ? dataTable([
          { label: "Item", cell: item },
          { label: "Cover", num: true, cell: (s) => (s.days_of_cover === null ? "—" : `${s.days_of_cover.toFixed(1)} d`) },
          { label: "Lead time", num: true, opt: true, cell: (s) => `${s.lead_time_days} d` },
          { label: "Order", num: true, cell: (s) => fmt(s.qty) },
        ], urgent, { onRow: () => ctx.navigate("planning", { urgent: "true" }) })
        : empty("Nothing urgent", "No item runs out before an order placed today would arrive.")));

  // Returns: the last 30 days against the 30 before, by reason.
  const reasons = Object.keys(returns.current.by_reason);
  const change = returns.previous.units ? Math.round(((returns.current.units - returns.previous.units) / returns.previous.units) * 100) : null;
  grid.append(h("section", { class: "card", dataset: { tile: "returns" } },
    h("div", { class: "card-head" }, h("h2", {}, "Returns"), h("span", { class: "muted small" }, `last ${returns.window_days} days vs the ${returns.window_days} before`)),
    h("div", { class: "tiles two" },
      h("div", { class: "tile" }, h("span", { class: "label" }, "Units"), h("span", { class: "value", dataset: { figure: "returns-units" } }, fmt(returns.current.units)),
        h("span", { class: "muted small" }, `before: ${fmt(returns.previous.units)}${change === null ? "" : ` (${change > 0 ? "+" : ""}${change} %)`}`)),
      h("div", { class: "tile" }, h("span", { class: "label" }, "Value"), h("span", { class: "value", dataset: { figure: "returns-value" } }, money(returns.current.value)),
        h("span", { class: "muted small" }, `before: ${money(returns.previous.value)}`))),
    dataTable([
      { label: "Reason", cell: (r) => words(r) },
      { label: "Units", num: true, cell: (r) => fmt(returns.current.by_reason[r].units) },
      { label: "Value", num: true, cell: (r) => money(returns.current.by_reason[r].value) },
      { label: "Before", num: true, cell: (r) => fmt(returns.previous.by_reason[r].units) },
    ], reasons, { cls: "compact returns" })));

  // Days of cover heatmap.
  const cell = (r, code) => {
    const c = r.cells[code];
    if (!c) return h("td", { class: "none" }, "");
    return h("td", { class: c.level, title: `${r.sku} at ${code}: ${fmt(c.available)} available, ${c.daily_demand} a day, lead time ${r.lead_time_days} d` },
      c.days === null ? "—" : c.days >= 999 ? "999+" : c.days.toFixed(0));
  };
  wide.append(h("section", { class: "card", dataset: { tile: "cover" } },
    h("div", { class: "card-head" }, h("h2", {}, "Days of cover"),
      h("span", { class: "muted small" }, `available ÷ daily sales of the last ${cover.demand_days} days; red: runs out within the lead time`)),
    cover.items.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "heat" },
        h("thead", {}, h("tr", {}, h("th", {}, "Item"), h("th", { class: "num opt" }, "Lead"), cover.locations.map((code) => h("th", { class: "num" }, code)))),
        h("tbody", {}, cover.items.map((r) => h("tr", { tabindex: "0", dataset: { sku: r.sku }, onclick: () => openItem(r) },
          h("td", { class: "sku" }, r.sku), h("td", { class: "num opt" }, `${r.lead_time_days} d`), cover.locations.map((code) => cell(r, code)))))))
      : empty("No stocked items with sales", "Cover appears once items sell.")));
}
