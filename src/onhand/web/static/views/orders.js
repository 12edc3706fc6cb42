// Purchase orders: list and detail; approve, send, receive (partial), cancel; CSV downloads.

import { card, dataTable, download, empty, field, fmt, h, money, newKey, problemBox, toast, when } from "../lib/dom.js";

export const title = "Purchase orders";

const STATUSES = ["open", "draft", "approved", "sent", "partially_received", "received", "cancelled"];
const ACTIONS = {
  draft: ["approve", "cancel"],
  approved: ["send", "cancel"],
  sent: ["cancel"],
  partially_received: ["cancel"],
};

export async function render(root, ctx) {
  const { api } = ctx;
  let status = ctx.params.get("status") || "open";
  let selected = ctx.params.get("po") ? Number(ctx.params.get("po")) : null;
  const list = h("section", { class: "card" });
  const detail = h("section", { class: "card detail-card" });
  root.append(h("div", { class: "split" }, h("div", { class: "col" }, list), h("div", { class: "col" }, detail)));

  const keep = () => ctx.setParams(Object.fromEntries(Object.entries({ status, po: selected }).filter(([, v]) => v)));

  async function loadList() {
    const rows = [];
    let after = 0;
    for (;;) {
      const page = await api.get("/purchase-orders", { status: status === "all" ? null : status, after, limit: 200 });
      rows.push(...page.purchase_orders);
      if (page.next_after === null || page.next_after === undefined) break;
      after = page.next_after;
    }
    const pick = h("select", { "aria-label": "Status", name: "status" },
      [...STATUSES, "all"].map((s) => h("option", { value: s }, s.replaceAll("_", " "))));
    pick.value = status;
    pick.addEventListener("change", () => { status = pick.value; keep(); loadList(); });
    const csv = h("button", { type: "button", class: "ghost", onclick: async () => {
      download("purchase-orders.csv", await api.text("/purchase-orders.csv"));
    } }, "CSV of open orders");
    list.replaceChildren(h("div", { class: "card-head" }, h("h2", {}, "Purchase orders"), h("div", { class: "tools" }, pick, csv)),
      rows.length
        ? dataTable([
          { label: "Number", key: "number", cell: (r) => h("span", { class: "sku" }, r.number) },
          { label: "Supplier", key: "supplier_name" },
          { label: "Status", key: "status", cell: (r) => statusPill(r.status) },
          { label: "To", key: "location", opt: true },
          { label: "Units", num: true, key: "units", cell: (r) => `${fmt(r.received)} / ${fmt(r.units)}` },
          { label: "Total", num: true, opt: true, sort: (r) => Number(r.total), cell: (r) => `${money(r.total)} ${r.currency}` },
          { label: "Created", opt: true, key: "created_at", cell: (r) => when(r.created_at) },
        ], rows, { sortable: true, onRow: (r) => select(r.id), rowClass: (r) => (r.id === selected ? "selected" : null) })
        : empty(`No ${status === "all" ? "" : status.replaceAll("_", " ")} purchase orders`, "Turn plan suggestions into draft orders under Planning."));
  }

  async function select(id) {
    selected = id;
    keep();
    await Promise.all([loadList(), drawDetail()]);
    if (window.matchMedia("(max-width: 1020px)").matches) detail.scrollIntoView({ block: "start" });
  }

  async function act(po, action) {
    if (action === "cancel" && !window.confirm(`Cancel ${po.number}? Its outstanding units leave incoming.`)) return;
    try {
      await api.post(`/purchase-orders/${po.id}/${action}`, {}, { "Idempotency-Key": newKey() });
      toast(`${po.number}: ${action === "send" ? "sent" : `${action}d`}`);
      await Promise.all([loadList(), drawDetail()]);
    } catch (err) {
      detail.prepend(problemBox(err));
    }
  }

  async function drawDetail() {
    if (!selected) {
      detail.replaceChildren(empty("No order selected", "Pick an order to see its lines, receive goods or change its status."));
      return;
    }
    let po;
    try {
      po = await api.get(`/purchase-orders/${selected}`);
    } catch (err) {
      detail.replaceChildren(empty("The order could not be loaded", err.message));
      return;
    }
    const receivable = po.status === "sent" || po.status === "partially_received";
    const inputs = new Map();
    const lines = dataTable([
      { label: "Item", cell: (l) => h("span", { class: "item" }, h("span", { class: "name" }, l.name), h("span", { class: "sku" }, l.sku)) },
      { label: "Ordered", num: true, cell: (l) => fmt(l.qty, l.unit) },
      { label: "Received", num: true, cell: (l) => fmt(l.received, l.unit) },
      { label: "Price", num: true, opt: true, cell: (l) => money(l.unit_price) },
      receivable ? { label: "Receive now", num: true, cell: (l) => {
        const input = h("input", { name: `receive-${l.sku}`, inputmode: "numeric", class: "qty", value: l.outstanding > 0 ? String(l.outstanding) : "0", "aria-label": `Receive ${l.sku}` });
        inputs.set(l.sku, input);
        return input;
      } } : null,
    ].filter(Boolean), po.lines, { cls: "compact" });
    const receiveError = h("div", { class: "form-error" });
    const receive = receivable ? h("div", { class: "actions" }, h("button", { type: "button", class: "primary", "data-action": "receive", onclick: async () => {
      const body = { lines: [...inputs].map(([sku, input]) => ({ sku, qty: Number(input.value.trim() || 0) })).filter((l) => l.qty > 0) };
      if (!body.lines.length) { receiveError.replaceChildren(h("div", { class: "callout error" }, "Enter a quantity to receive on at least one line.")); return; }
      try {
        await api.post(`/purchase-orders/${po.id}/receipts`, body, { "Idempotency-Key": newKey() });
        toast(`${po.number}: ${body.lines.reduce((n, l) => n + l.qty, 0)} units received`);
        await Promise.all([loadList(), drawDetail()]);
      } catch (err) {
        receiveError.replaceChildren(problemBox(err, "The receipt was refused"));
      }
    } }, "Book receipt")) : null;
    detail.replaceChildren(
      h("div", { class: "detail-head" },
        h("div", {}, h("h2", {}, po.number), h("div", { class: "meta" }, statusPill(po.status), h("span", {}, po.supplier_name), h("span", { class: "muted" }, `to ${po.location}`))),
        h("div", { class: "tools" },
          (ACTIONS[po.status] || []).map((a) => h("button", { type: "button", class: a === "cancel" ? "ghost" : "primary", "data-action": a, onclick: () => act(po, a) }, a[0].toUpperCase() + a.slice(1))),
          h("button", { type: "button", class: "ghost", onclick: async () => download(`${po.number}.csv`, await api.text(`/purchase-orders/${po.id}.csv`)) }, "CSV"))),
      h("div", { class: "tiles" },
        tile("Units", `${fmt(po.received)} / ${fmt(po.units)}`), tile("Total", `${money(po.total)} ${po.currency}`),
        tile("Approved", po.approved_at ? when(po.approved_at) : "—"), tile("Sent", po.sent_at ? when(po.sent_at) : "—")),
      h("h3", {}, "Lines"), lines, receiveError, receive,
      po.receipts.length ? [h("h3", {}, "Receipts"), dataTable([
        { label: "When", cell: (r) => when(r.received_at || r.created_at) },
        { label: "Units", num: true, cell: (r) => fmt((r.lines || []).reduce((n, l) => n + (l.qty || 0), 0)) },
      ], po.receipts, { cls: "compact" })] : null,
      po.note ? h("p", { class: "muted" }, po.note) : null);
  }

  await Promise.all([loadList(), drawDetail()]);
}

function statusPill(status) {
  const cls = status === "cancelled" ? "bad" : status === "received" ? "ok" : status === "draft" ? "" : "warn";
  return h("span", { class: `pill ${cls}`, dataset: { status } }, status.replaceAll("_", " "));
}

function tile(label, value) {
  return h("div", { class: "tile" }, h("span", { class: "label" }, label), h("span", { class: "value" }, value));
}
