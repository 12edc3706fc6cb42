// Planning: the last plan's suggestions by supplier; run the plan; chosen lines → draft POs.

import { card, dataTable, empty, fmt, h, money, newKey, problemBox, toast, when } from "../lib/dom.js";

export const title = "Planning";

export async function render(root, ctx) {
  const { api } = ctx;
  const head = h("section", { class: "card" });
  const body = h("div", { class: "col" });
  root.append(head, body);
  const chosen = new Set();
  const onlyUrgent = ctx.params.get("urgent") === "true";

  async function runPlan(button) {
    button.disabled = true;
    const bar = h("div", { class: "progress", role: "progressbar", "aria-label": "Planning" }, h("span"));
    const note = h("span", { class: "muted small" }, "Forecasting demand and sizing orders…");
    head.append(bar, note);
    try {
      const run = await api.post("/plan");
      toast(`Plan done: ${run.suggestions} suggestions, ${run.urgent} urgent`);
      await load();
    } catch (err) {
      head.append(problemBox(err, "The plan did not run"));
    } finally {
      bar.remove();
      note.remove();
      button.disabled = false;
    }
  }

  async function order() {
    const lines = [...chosen];
    try {
      const made = await api.post("/plan/purchase-orders", { lines }, { "Idempotency-Key": newKey() });
      chosen.clear();
      const numbers = made.purchase_orders.map((po) => po.number).join(", ");
      toast(`Draft purchase orders ${numbers || "(none)"} created`);
      if (made.purchase_orders.length === 1) ctx.navigate("orders", { po: made.purchase_orders[0].id });
      else ctx.navigate("orders", { status: "draft" });
    } catch (err) {
      body.prepend(problemBox(err, "No purchase order was made"));
    }
  }

  async function load() {
    const { run: last } = await api.get("/console/plan");
    const doc = last ? await api.get("/plan/suggestions", { limit: 1000, urgent: onlyUrgent ? "true" : null }) : null;
    const runButton = h("button", { type: "button", class: "primary", onclick: (e) => runPlan(e.target) }, "Run plan");
    const orderButton = h("button", { type: "button", class: "ghost", disabled: true, "data-action": "order", onclick: order }, "Draft purchase orders");
    const sync = () => {
      orderButton.disabled = chosen.size === 0;
      orderButton.textContent = chosen.size ? `Draft purchase orders (${chosen.size} lines)` : "Draft purchase orders";
    };
    const run = doc?.run;
    head.replaceChildren(h("div", { class: "card-head" }, h("h2", {}, "Replenishment plan"),
      h("div", { class: "tools" }, orderButton, runButton)),
    run
      ? h("div", { class: "row" },
        stat("Last run", when(run.finished_at || run.started_at)), stat("Suggestions", run.suggestions),
        stat("Urgent", run.urgent), stat("Suppliers", run.suppliers), stat("Service level", `${Math.round(run.settings.service_level * 100)} %`))
      : h("p", { class: "muted" }, "No plan has been run yet: Run plan forecasts demand per item and location and suggests what to buy."));
    if (!doc) return body.replaceChildren();
    const bySupplier = new Map();
    for (const s of doc.suggestions) {
      if (!bySupplier.has(s.supplier)) bySupplier.set(s.supplier, []);
      bySupplier.get(s.supplier).push(s);
    }
    const groups = doc.suppliers.map((sup) => {
      const lines = bySupplier.get(sup.supplier) || [];
      const open = lines.filter((l) => !l.purchase_order);
      const all = h("input", { type: "checkbox", "aria-label": `Choose every open line of ${sup.supplier}` });
      const boxes = new Map();
      all.addEventListener("change", () => {
        for (const l of open) { if (all.checked) chosen.add(l.line_no); else chosen.delete(l.line_no); boxes.get(l.line_no).checked = all.checked; }
        sync();
      });
      const table = dataTable([
        { label: "", cell: (l) => {
          if (l.purchase_order) return h("span", { class: "pill ok", title: "Already on a purchase order" }, "ordered");
          const box = h("input", { type: "checkbox", "aria-label": `Choose ${l.sku}`, checked: chosen.has(l.line_no), dataset: { line: l.line_no } });
          boxes.set(l.line_no, box);
          box.addEventListener("change", () => { if (box.checked) chosen.add(l.line_no); else chosen.delete(l.line_no); sync(); });
          return box;
        } },
        { label: "Item", sort: (l) => l.sku, cell: (l) => h("span", { class: "item" }, h("span", { class: "name" }, l.name), h("span", { class: "sku" }, `${l.sku} → ${l.location}`)) },
        { label: "Urgency", sort: (l) => (l.urgent ? 0 : 1), cell: (l) => (l.urgent ? h("span", { class: "pill bad" }, "urgent") : h("span", { class: "muted" }, "due")) },
        { label: "Risk", key: "risk", opt: true },
        { label: "Cover (days)", num: true, sort: (l) => l.days_of_cover ?? Infinity, cell: (l) => (l.days_of_cover === null ? "—" : l.days_of_cover.toFixed(1)) },
        { label: "Lead time", num: true, opt: true, cell: (l) => `${l.lead_time_days} d` },
        { label: "Available", num: true, opt: true, key: "available" },
        { label: "Order", num: true, sort: (l) => l.qty, cell: (l) => fmt(l.qty) },
        { label: "Value", num: true, opt: true, cell: (l) => money(l.line_total) },
      ], lines, { sortable: true, cls: "compact" });
      return h("div", { class: "supplier-group", dataset: { supplier: sup.supplier } },
        h("div", { class: "group-head" },
          h("label", { class: "check" }, all, h("strong", {}, sup.supplier_name), h("span", { class: "sku" }, sup.supplier)),
          h("span", { class: "muted small" }, `${sup.lines} lines · ${sup.urgent_lines} urgent · ${fmt(sup.units)} units · ${money(sup.value)} ${sup.currency}`)),
        table);
    });
    body.replaceChildren(card("Suggestions by supplier",
      h("a", { href: `/dashboard/planning${onlyUrgent ? "" : "?urgent=true"}`, onclick: (e) => { e.preventDefault(); ctx.navigate("planning", onlyUrgent ? {} : { urgent: "true" }); } }, onlyUrgent ? "Show all" : "Urgent only"),
      groups.length ? groups : empty("Nothing to order", "Every item's stock covers its demand until the next review."),
      doc.suggestions.some((s) => !s.supplier) ? h("p", { class: "callout" }, "Some items have no supplier: link one under Suppliers so the plan can order them.") : null));
  }

  await load();
}

function stat(label, value) {
  return h("div", { class: "stat" }, h("span", { class: "label" }, label), h("span", { class: "value" }, value));
}
