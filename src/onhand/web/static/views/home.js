// Home: what needs attention today, as tiles.
import { allItems, figuresOf, stockLevel } from "../lib/catalog.js";
import { card, dataTable, empty, fmt, h } from "../lib/dom.js";

export const title = "Home";

export async function render(root, ctx) {
  const { api } = ctx;
  const grid = h("div", { class: "grid-tiles" });
  root.append(grid);
  const items = await allItems(api);
  const figures = await figuresOf(api, items.map((i) => i.sku));
  const rows = items.map((i) => ({ ...i, f: figures.get(i.sku) || {}, level: stockLevel(i, figures.get(i.sku)) }))
    .filter((r) => r.level === "low" || r.level === "out");
  const open = (r) => ctx.navigate("stock", { item: r.sku });
  grid.append(card("Low and out of stock", h("span", { class: "muted small", "data-count": "low-out" }, `${rows.length} items`),
    rows.length
      ? dataTable([
        { label: "Item", cell: (r) => h("span", { class: "item" }, h("span", { class: "name" }, r.name), h("span", { class: "sku" }, r.sku)) },
        { label: "Available", num: true, cell: (r) => h("span", { class: "figure" }, fmt(r.f.available, r.unit), h("span", { class: `pill ${r.level === "out" ? "bad" : "warn"}` }, r.level)) },
      ], rows, { onRow: open, sortable: true })
      : empty("Nothing is low", "Every item is above its low-stock threshold.")));
}
