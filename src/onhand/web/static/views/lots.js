// Lots: what expires soon, a lot's trace (where it came from, where it is, who took it) and
// the recall that takes it off sale everywhere, confirmed first.

import { card, dataTable, day, debounce, empty, field, fmt, h, problemBox, toast, when, words } from "../lib/dom.js";

export const title = "Lots";

const WINDOWS = [7, 14, 30, 90];
const LOT_EVENTS = new Set(["lot.expiring", "lot.expired", "inventory.recall.initiated"]);

function left(lot) {
  if (lot.recalled) return h("span", { class: "pill bad" }, "recalled");
  if (lot.days_left < 0) return h("span", { class: "pill bad" }, `expired ${-lot.days_left} d ago`);
  if (lot.days_left === 0) return h("span", { class: "pill bad" }, "last day");
  return h("span", { class: `pill ${lot.days_left <= 3 ? "warn" : "plain"}` }, `${lot.days_left} d left`);
}

export async function render(root, ctx) {
  const { api, params } = ctx;
  let days = WINDOWS.includes(Number(params.get("days"))) ? Number(params.get("days")) : 7;
  let selected = params.get("sku") && params.get("lot") ? { sku: params.get("sku"), lot: params.get("lot") } : null;
  let confirming = false;
  let recalled = null; // {sku, lot, recall}: what the recall made from here did, kept on screen

  const window_ = h("select", { "aria-label": "Expiring within", name: "days" },
    WINDOWS.map((d) => h("option", { value: d }, `within ${d} days`)));
  window_.value = String(days);
  const listBox = h("div");
  const detail = h("section", { class: "card detail-card", "aria-live": "polite" });
  const find = h("form", { class: "find-lot", dataset: { form: "find-lot" } },
    h("input", { name: "sku", placeholder: "SKU", "aria-label": "SKU", spellcheck: "false", value: selected ? selected.sku : "" }),
    h("input", { name: "lot", placeholder: "Lot code", "aria-label": "Lot code", spellcheck: "false", value: selected ? selected.lot : "" }),
    h("button", { type: "submit", class: "ghost" }, "Trace"));
  root.append(h("div", { class: "split" },
    h("div", { class: "col" },
      card("Expiring soon", window_, listBox),
      card("Find a lot", null, find)),
    h("div", { class: "col" }, detail)));

  const keep = () => ctx.setParams(Object.fromEntries(Object.entries({
    days: days === 7 ? "" : days, sku: selected ? selected.sku : "", lot: selected ? selected.lot : "",
  }).filter(([, v]) => v)));
  const isSelected = (l) => selected && l.sku === selected.sku && l.lot === selected.lot;

  async function loadList() {
    const { lots } = await api.get("/lots/expiring", { days });
    listBox.replaceChildren(lots.length
      ? dataTable([
        { label: "Item", cell: (l) => h("span", { class: "sku", dataset: { lot: `${l.sku}/${l.lot}` } }, l.sku) },
        { label: "Lot", cell: (l) => h("strong", {}, l.lot) },
        { label: "Use by", sort: (l) => l.expires_on, cell: (l) => day(l.expires_on) },
        { label: "", cell: left },
        { label: "On hand", num: true, key: "on_hand", cell: (l) => fmt(l.on_hand) },
      ], lots, { sortable: true, onRow: (l) => select(l.sku, l.lot), rowClass: (l) => (isSelected(l) ? "selected" : null) })
      : empty(`Nothing expires within ${days} days`, "Lots with stock and a use-by date show here as their date comes near."));
  }

  async function select(sku, lot) {
    selected = { sku, lot };
    confirming = false;
    find.elements.sku.value = sku;
    find.elements.lot.value = lot;
    keep();
    await Promise.all([loadList(), drawDetail()]);
    if (window.matchMedia("(max-width: 1020px)").matches) detail.scrollIntoView({ block: "start" });
  }

  async function drawDetail(done) {
    if (!selected) {
      detail.replaceChildren(empty("No lot selected", "Pick a lot that expires soon, or find one by its SKU and code, to see its trace."));
      return;
    }
    const { sku, lot } = selected;
    let trace = done;
    if (!trace) {
      try {
        trace = await api.get(`/lots/${encodeURIComponent(sku)}/${encodeURIComponent(lot)}/trace`);
      } catch (err) {
        detail.replaceChildren(problemBox(err, "The lot could not be traced"));
        return;
      }
    }
    if (!selected || selected.sku !== sku || selected.lot !== lot) return;
    const error = h("div", { class: "form-error" });
    const confirmBox = h("div");
    const recall = trace.recalled_at ? null
      : h("button", { type: "button", class: "danger", "data-action": "recall", onclick: () => { confirming = true; drawConfirm(confirmBox, trace, error); } }, "Recall this lot");
    detail.replaceChildren(...[
      h("div", { class: "detail-head" },
        h("div", {},
          h("h2", {}, `${trace.sku} · lot ${trace.lot}`),
          h("div", { class: "meta" },
            trace.recalled_at ? h("span", { class: "pill bad", dataset: { state: "recalled" } }, `recalled ${when(trace.recalled_at)}`) : null,
            trace.expired_at ? h("span", { class: "pill bad" }, `expired, set aside ${when(trace.expired_at)}`) : null,
            h("span", {}, trace.expires_on ? `use by ${day(trace.expires_on)}` : "no use-by date"),
            trace.best_before ? h("span", { class: "muted" }, `best before ${day(trace.best_before)}`) : null,
            trace.supplier ? h("span", { class: "muted" }, `from ${trace.supplier}`) : null)),
        h("div", { class: "tools" }, recall)),
      confirmBox, error,
      recalled && recalled.sku === sku && recalled.lot === lot ? recallSummary(recalled.recall) : null,
      ...traceBody(trace)].filter(Boolean));
    if (confirming && !trace.recalled_at) drawConfirm(confirmBox, trace, error);
  }

  function drawConfirm(box, trace, error) {
    // Units not sold yet: free ones and those of holds that move away or are released.
    const free = trace.now.reduce((n, p) => n + Math.max(p.on_hand - p.committed - p.damaged - p.quality_control, 0), 0);
    const holds = trace.reservations.filter((r) => r.held - r.committed - r.shipped - r.given_back > 0).length;
    const reason = h("input", { name: "reason", maxlength: "200", placeholder: "e.g. supplier recall notice 14" });
    const go = h("button", { type: "submit", class: "danger", "data-action": "confirm-recall" }, `Recall lot ${trace.lot}`);
    box.replaceChildren(h("form", { class: "callout error recall-confirm", dataset: { form: "recall" }, onsubmit: async (e) => {
      e.preventDefault();
      go.disabled = true;
      error.replaceChildren();
      try {
        const text = reason.value.trim();
        const doc = await api.post(`/lots/${encodeURIComponent(trace.sku)}/${encodeURIComponent(trace.lot)}/recall`, text ? { reason: text } : {});
        confirming = false;
        recalled = { sku: trace.sku, lot: trace.lot, recall: doc.recall };
        toast(`${trace.sku} lot ${trace.lot} recalled`, "warn");
        await Promise.all([loadList(), drawDetail(doc)]);
      } catch (err) {
        go.disabled = false;
        error.replaceChildren(problemBox(err, "The lot was not recalled"));
      }
    } },
      h("strong", {}, `Take ${trace.sku} lot ${trace.lot} off sale everywhere?`),
      h("span", {}, `Nothing of it can be held or shipped any more. ${holds} open hold${holds === 1 ? "" : "s"} on it `,
        `move to another lot on the same shelf, or are released; then its ${fmt(free)} unit${free === 1 ? "" : "s"} on the shelves go to quality control. `,
        "Units already committed to orders stay committed: the trace lists those orders."),
      field("Reason (kept in the ledger)", reason, "recall-reason"),
      h("div", { class: "row" },
        h("button", { type: "button", class: "ghost", onclick: () => { confirming = false; box.replaceChildren(); } }, "Cancel"), go)));
    reason.focus();
  }

  function recallSummary(r) {
    const held = r.quality_control.reduce((n, q) => n + q.qty, 0);
    return h("div", { class: "callout", dataset: { recall: "done" } },
      h("strong", {}, `Recalled ${when(r.at)}${r.reason ? `: ${r.reason}` : ""}. `),
      `${fmt(held)} unit${held === 1 ? "" : "s"} into quality control${r.quality_control.length ? ` (${r.quality_control.map((q) => `${q.location} ${fmt(q.qty)}`).join(", ")})` : ""}; `,
      `${r.holds_moved.length} hold${r.holds_moved.length === 1 ? "" : "s"} moved to another lot, ${r.holds_released.length} released.`);
  }

  function traceBody(t) {
    // Damaged and in transit only when some unit of the lot is.
    const states = [["on_hand", "On hand"], ["reserved", "Reserved"], ["committed", "Committed"], ["quality_control", "In QC"], ["damaged", "Damaged"], ["in_transit", "In transit"]]
      .filter(([k], i) => i < 4 || t.totals[k]);
    return [
      h("div", { class: "tiles" }, states.slice(0, 4).map(([k, label]) => h("div", { class: "tile" },
        h("span", { class: "label" }, label), h("span", { class: "value", dataset: { figure: k } }, fmt(t.totals[k]))))),
      h("h3", {}, "Where it is now"),
      t.now.length
        ? dataTable([{ label: "Location", cell: (p) => p.location || "—" },
          ...states.map(([k, label]) => ({ label, num: true, cell: (p) => h("span", { dataset: { figure: `${p.location}/${k}` } }, fmt(p[k])) }))],
        t.now, { cls: "compact trace-now" })
        : h("div", { class: "empty small" }, "No unit of this lot is left anywhere."),
      h("h3", {}, "Where it came from"),
      h("p", { class: "small" }, t.origin.supplier ? `Supplier ${t.origin.supplier}` : "No supplier recorded",
        t.origin.reference ? ` · ${t.origin.reference}` : "", ` · first received ${when(t.origin.received_at)}`),
      dataTable([
        { label: "Received", cell: (r) => when(r.at) },
        { label: "At", cell: (r) => r.location || "—" },
        { label: "Units", num: true, cell: (r) => fmt(r.qty) },
        { label: "Reference", cell: (r) => r.reference || "—" },
      ], t.origin.receipts, { cls: "compact" }),
      h("h3", {}, "Who took it"),
      t.reservations.length
        ? dataTable([
          { label: "Order or cart", cell: (r) => h("span", { class: "item" }, h("span", { class: "name" }, r.reference || "no reference"),
            h("span", { class: "sku", title: `${r.reservation_id}, last ${when(r.last_at)}` }, `${r.reservation_id.slice(0, 8)} · ${r.locations.join(", ")}`)) },
          { label: "Held", num: true, cell: (r) => fmt(r.held) },
          { label: "Shipped", num: true, cell: (r) => fmt(r.shipped) },
          { label: "Given back", num: true, cell: (r) => fmt(r.given_back) },
        ], t.reservations, { cls: "compact trace-holds" })
        : h("div", { class: "empty small" }, "No hold or order took units of this lot."),
      t.shipments.length ? [h("h3", {}, "Shipped without a hold"), dataTable([
        { label: "When", cell: (s) => when(s.at) },
        { label: "From", cell: (s) => s.location || "—" },
        { label: "Units", num: true, cell: (s) => fmt(s.qty) },
        { label: "Reference", cell: (s) => s.reference || "—" },
      ], t.shipments, { cls: "compact" })] : null,
      t.other.length ? [h("h3", {}, "Other changes"), dataTable([
        { label: "Why", cell: (o) => words(o.reason) },
        { label: "State", cell: (o) => words(o.state) },
        { label: "Units", num: true, cell: (o) => `${o.delta > 0 ? "+" : ""}${fmt(o.delta)}` },
      ], t.other, { cls: "compact" })] : null,
    ].flat().filter(Boolean);
  }

  window_.addEventListener("change", () => { days = Number(window_.value); keep(); loadList(); });
  find.addEventListener("submit", (e) => {
    e.preventDefault();
    const sku = find.elements.sku.value.trim(), lot = find.elements.lot.value.trim();
    if (sku && lot) select(sku, lot);
  });

  // Expiry and recalls change the list; any stock change of the lot's item changes its trace
  // (a confirmation being filled in is left alone).
  const refreshList = debounce(() => { loadList().catch(() => {}); }, 300);
  const refreshTrace = debounce(() => { if (!confirming) drawDetail().catch(() => {}); }, 400);
  ctx.onEvent((event) => {
    if (LOT_EVENTS.has(event.type)) refreshList();
    if (selected && event.sku === selected.sku && (event.type === "stock.changed" || LOT_EVENTS.has(event.type))) refreshTrace();
  });
  await Promise.all([loadList(), drawDetail()]);
}
