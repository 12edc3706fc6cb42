// Backorders: what was sold beyond stock, when it is promised, and what could replace it.
import { card, dataTable, day, debounce, empty, h, problemBox, toast, when } from "../lib/dom.js";

export const title = "Backorders";

export async function render(root, ctx) {
  const { api, params } = ctx;
  const status = h("select", { "aria-label": "Status" },
    ...["open", "allocated", ""].map((s) => h("option", { value: s }, s || "all")));
  status.value = params.get("status") ?? "open";
  const allocate = h("button", { class: "primary", type: "button" }, "Allocate arrived stock");
  const body = h("div");
  root.append(card(title, h("div", { class: "row" }, status, allocate), body));

  async function load() {
    const doc = await api.get("/backorders", { status: status.value });
    body.replaceChildren(doc.backorders.length
      ? dataTable([
        { label: "Since", cell: (b) => when(b.created_at), sort: (b) => b.created_at },
        { label: "SKU", cell: (b) => h("span", { class: "sku" }, b.sku) },
        { label: "Location", key: "location", opt: true },
        { label: "Qty", key: "qty", num: true },
        { label: "ETA", cell: (b) => (b.eta ? day(b.eta) : h("span", { class: "pill bad" }, "unknown")), sort: (b) => b.eta || "9999" },
        { label: "Because", key: "eta_basis", opt: true },
        { label: "Status", cell: (b) => h("span", { class: `pill ${b.status === "open" ? "warn" : "ok"}` }, b.status) },
        { label: "Substitutes", cell: (b) => b.substitutes.map((s) => h("span", { class: "sku" }, `${s.sku} (${s.available})`)) },
      ], doc.backorders, { sortable: true })
      : empty("No backorders", status.value === "open" ? "Every sale has its stock." : "Nothing in this list."));
  }

  status.addEventListener("change", () => { ctx.navigate("backorders", { status: status.value }); });
  allocate.addEventListener("click", async () => {
    try {
      const done = await api.post("/backorders/allocate");
      toast(`${done.allocated.length} allocated, ${done.eta_changed.length} ETA changes`);
      await load();
    } catch (err) {
      body.prepend(problemBox(err));
    }
  });
  const refresh = debounce(() => { load().catch(() => {}); }, 300);
  const off = ctx.onEvent((event) => { if (String(event.type).startsWith("backorder.")) refresh(); });
  await load();
  return off;
}
