// Valuation: what the stock is worth (FIFO or average cost), per item and location, over time.

import { lineChart } from "../lib/chart.js";
import { card, dataTable, empty, fmt, h, money } from "../lib/dom.js";

export const title = "Valuation";

export async function render(root, ctx) {
  const { api } = ctx;
  const method = ctx.params.get("method") === "average" ? "average" : "fifo";
  const pick = h("select", { name: "method", "aria-label": "Cost flow" },
    h("option", { value: "fifo" }, "FIFO"), h("option", { value: "average" }, "Average cost"));
  pick.value = method;
  pick.addEventListener("change", () => ctx.navigate("valuation", { method: pick.value }));
  const [doc, abc] = await Promise.all([api.get("/valuation", { method }), api.get("/valuation/abc", { method })]);
  const classes = new Map((abc.items || []).map((i) => [i.sku, i.class]));
  const chartBox = h("div", { class: "chart", "data-chart": "valuation" });
  root.append(
    card("Stock value", pick,
      h("div", { class: "tiles" },
        tile("Value", money(doc.totals.value), "total-value"), tile("Units", fmt(doc.totals.qty)),
        tile("Lines", fmt(doc.totals.lines)), tile("As of", doc.as_of))),
    card("Value at each month's end", null, chartBox),
    card("By item and location", null, doc.items.length
      ? dataTable([
        { label: "Item", key: "sku", cell: (r) => h("span", { class: "sku" }, r.sku) },
        { label: "ABC", key: "sku", sort: (r) => classes.get(r.sku) || "Z", cell: (r) => classes.get(r.sku) || "—" },
        { label: "Location", key: "location", opt: true },
        { label: "Units", num: true, key: "qty", cell: (r) => fmt(r.qty) },
        { label: "Unit cost", num: true, opt: true, sort: (r) => Number(r.unit_cost), cell: (r) => money(r.unit_cost) },
        { label: "Value", num: true, sort: (r) => Number(r.value), cell: (r) => money(r.value) },
      ], doc.items, { sortable: true, initial: { index: 5, dir: -1 } })
      : empty("Nothing in stock", "Receive goods to see what they are worth.")));
  const series = await api.get("/console/valuation/series", { method, months: 12 });
  return lineChart(chartBox, series.points.map((p) => p.as_of),
    [{ label: "Value", values: series.points.map((p) => Number(p.value)), fill: "rgba(59,91,219,.12)" }]);
}

function tile(label, value, name) {
  return h("div", { class: "tile" }, h("span", { class: "label" }, label), h("span", { class: "value", dataset: name ? { figure: name } : {} }, value));
}
