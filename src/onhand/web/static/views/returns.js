// Returns (RMA): the list by status, a new return, approve or refuse, receive what arrived
// line by line, and the inspection that gives every received line its disposition.

import { allItems, stockable, stocked } from "../lib/catalog.js";
import { card, dataTable, day, debounce, empty, field, fmt, h, problemBox, toast, when, words } from "../lib/dom.js";

export const title = "Returns";

const STATUSES = ["open", "requested", "approved", "received", "closed", "refused", "all"];
const OPEN = new Set(["requested", "approved", "received"]);
const DISPOSITIONS = {
  restock: "Restock (sells again)",
  damage: "Damaged (kept, not for sale)",
  scrap: "Scrap (written off)",
  return_to_vendor: "Back to the vendor (written off here)",
};
const FIGURES = [["available", "Available"], ["on_hand", "On hand"], ["quality_control", "In QC"], ["damaged", "Damaged"]];

const short = (id) => id.slice(0, 8);
// What a step changes: the status and each line's arrival and disposition (a return or its event).
const signature = (r) => JSON.stringify([r.status, (r.lines || []).map((l) => [l.line, l.received, l.disposition])]);

function statusPill(status) {
  const cls = { approved: "warn", received: "warn", closed: "ok", refused: "bad" }[status] || "plain";
  return h("span", { class: `pill ${cls}`, dataset: { status } }, status);
}

function dispositionPill(line) {
  const cls = { restock: "ok", damage: "warn" }[line.disposition] || "bad";
  return h("span", { class: `pill ${cls}`, dataset: { disposition: line.disposition } }, words(line.disposition));
}

export async function render(root, ctx) {
  const { api, params } = ctx;
  let status = STATUSES.includes(params.get("status")) ? params.get("status") : "open";
  let selected = params.get("rma") || "";
  let creating = params.get("new") === "1";
  let shown = null; // the return drawn in the detail, to tell a change by someone else
  const catalogue = { items: null, locations: null };

  const pick = h("select", { "aria-label": "Status", name: "status" }, STATUSES.map((s) => h("option", { value: s }, s)));
  pick.value = status;
  const add = h("button", { type: "button", class: "primary", "data-action": "new" }, "New return");
  const listBox = h("div");
  const detail = h("section", { class: "card detail-card", "aria-live": "polite" });
  root.append(h("div", { class: "split" },
    h("div", { class: "col" }, card("Returns", h("div", { class: "row" }, pick, add), listBox)),
    h("div", { class: "col" }, detail)));

  const keep = () => ctx.setParams(Object.fromEntries(Object.entries({
    status: status === "open" ? "" : status, rma: creating ? "" : selected, new: creating ? "1" : "",
  }).filter(([, v]) => v)));

  async function loadList() {
    const { rmas } = await api.get("/rma", { status: status === "open" || status === "all" ? null : status, limit: 500 });
    const rows = status === "open" ? rmas.filter((r) => OPEN.has(r.status)) : rmas;
    listBox.replaceChildren(rows.length
      ? dataTable([
        { label: "Return", cell: (r) => h("span", { class: "sku", title: r.id, dataset: { rma: r.id } }, short(r.id)) },
        { label: "Status", key: "status", cell: (r) => statusPill(r.status) },
        { label: "Order", key: "order_reference", cell: (r) => r.order_reference || "—" },
        { label: "Customer", key: "customer", opt: true, cell: (r) => h("span", { class: "clip" }, r.customer || "—") },
        { label: "Units", num: true, sort: (r) => units(r), cell: (r) => fmt(units(r)) },
        { label: "Requested", opt: true, key: "created_at", cell: (r) => day(r.created_at) },
      ], rows, {
        sortable: true,
        onRow: (r) => select(r.id),
        rowClass: (r) => (r.id === selected && !creating ? "selected" : null),
      })
      : empty(status === "all" ? "No returns yet" : `No ${status} returns`, "A customer's return starts with “New return”."));
  }

  const units = (r) => r.lines.reduce((n, l) => n + l.qty, 0);

  async function select(id) {
    selected = id;
    creating = false;
    keep();
    await Promise.all([loadList(), drawDetail()]);
    if (window.matchMedia("(max-width: 1020px)").matches) detail.scrollIntoView({ block: "start" });
  }

  // ---- one return -------------------------------------------------------------------------

  async function drawDetail() {
    if (creating) return drawForm();
    if (!selected) {
      shown = null;
      detail.replaceChildren(empty("No return selected", "Choose a return to approve, receive or inspect it, or start a new one."));
      return;
    }
    let rma;
    try {
      rma = await api.get(`/rma/${encodeURIComponent(selected)}`);
    } catch (err) {
      shown = null;
      detail.replaceChildren(problemBox(err, "The return could not be loaded"));
      return;
    }
    shown = rma;
    const error = h("div", { class: "form-error" });
    const skus = [...new Set(rma.lines.map((l) => l.sku))];
    const figures = h("div", { dataset: { figures: rma.location } });
    detail.replaceChildren(...[
      h("div", { class: "detail-head" },
        h("div", {},
          h("h2", {}, `Return ${short(rma.id)}`),
          h("div", { class: "meta" }, statusPill(rma.status),
            rma.order_reference ? h("span", {}, `order ${rma.order_reference}`) : null,
            rma.customer ? h("span", {}, rma.customer) : null,
            h("span", { class: "muted" }, `to ${rma.location} · ${when(rma.created_at)}`))),
        h("div", { class: "tools" }, actions(rma, error))),
      rma.note ? h("p", { class: "muted notes" }, rma.note) : null,
      rma.refusal ? h("div", { class: "callout" }, h("strong", {}, "Refused: "), rma.refusal) : null,
      error,
      step(rma, error),
      h("h3", {}, `Stock at ${rma.location}`),
      figures].flat().filter(Boolean));
    await drawFigures(figures, rma.location, skus);
  }

  async function drawFigures(box, location, skus) {
    const { availability } = await api.get(`/availability?skus=${skus.map(encodeURIComponent).join(",")}`);
    const rows = availability.map((doc) => ({ sku: doc.sku, ...(doc.locations.find((l) => l.location === location) || {}) }));
    box.replaceChildren(dataTable([
      { label: "SKU", cell: (r) => h("span", { class: "sku" }, r.sku) },
      ...FIGURES.map(([key, label]) => ({ label, num: true, cell: (r) => h("span", { dataset: { figure: `${r.sku}/${key}` } }, fmt(r[key] ?? 0)) })),
    ], rows, { cls: "compact" }));
  }

  function actions(rma, error) {
    const act = async (step, body, done) => {
      error.replaceChildren();
      try {
        await api.post(`/rma/${encodeURIComponent(rma.id)}/${step}`, body);
        toast(`Return ${short(rma.id)}: ${done}`);
        await Promise.all([loadList(), drawDetail()]);
      } catch (err) {
        error.replaceChildren(problemBox(err, "The return was not changed"));
      }
    };
    const out = [];
    if (rma.status === "requested") {
      out.push(h("button", { type: "button", class: "primary", "data-action": "approve", onclick: () => act("approve", {}, "approved") }, "Approve"));
    }
    if (rma.status === "requested" || rma.status === "approved") {
      const reason = h("input", { name: "refusal", placeholder: "Why it is refused", "aria-label": "Reason for refusing", maxlength: "2000" });
      const refuse = h("button", { type: "button", class: "ghost", "data-action": "refuse" }, "Refuse");
      refuse.addEventListener("click", () => {
        if (!reason.isConnected) { refuse.before(reason); reason.focus(); return; }
        if (!reason.value.trim()) { reason.focus(); return; }
        act("refuse", { reason: reason.value.trim() }, "refused");
      });
      out.push(refuse);
    }
    return out;
  }

  // What the status asks for next: the lines, with the inputs of the step.
  function step(rma, error) {
    const item = (l) => h("span", { class: "item" }, h("span", { class: "sku" }, l.sku), h("span", { class: "muted small" }, l.reason));
    if (rma.status === "approved") {
      const inputs = new Map();
      const table = dataTable([
        { label: "#", key: "line" },
        { label: "Item", cell: item },
        { label: "Announced", num: true, cell: (l) => fmt(l.qty) },
        { label: "Arrived", num: true, cell: (l) => {
          const input = h("input", { class: "qty", name: `received-${l.line}`, inputmode: "numeric", value: String(l.qty), "aria-label": `Units of line ${l.line} that arrived` });
          inputs.set(l.line, input);
          return input;
        } },
      ], rma.lines, { cls: "compact rma-step" });
      const book = h("button", { type: "submit", class: "primary", "data-action": "receive" }, "Book into quality control");
      return h("form", { class: "form", novalidate: true, dataset: { form: "receive" }, onsubmit: async (e) => {
        e.preventDefault();
        error.replaceChildren();
        const lines = [];
        for (const [line, input] of inputs) {
          const v = input.value.trim();
          if (!/^\d+$/.test(v)) { error.replaceChildren(h("div", { class: "callout error" }, `Line ${line}: enter the units that arrived (0 if none).`)); input.focus(); return; }
          lines.push({ line, qty: Number(v) });
        }
        book.disabled = true;
        try {
          await api.post(`/rma/${encodeURIComponent(rma.id)}/receive`, { lines });
          toast(`Return ${short(rma.id)}: ${lines.reduce((n, l) => n + l.qty, 0)} units into quality control`);
          await Promise.all([loadList(), drawDetail()]);
        } catch (err) {
          book.disabled = false;
          error.replaceChildren(problemBox(err, "The goods were not received"));
        }
      } }, h("h3", {}, "Receive what arrived"), table, h("div", { class: "actions" }, book));
    }
    if (rma.status === "received") {
      const choices = new Map();
      const todo = (l) => l.disposition === null && (l.received || 0) > 0;
      const table = dataTable([
        { label: "#", key: "line" },
        { label: "Item", cell: item },
        { label: "Arrived", num: true, cell: (l) => fmt(l.received ?? 0) },
        { label: "Disposition", cell: (l) => {
          if (!todo(l)) return l.disposition ? dispositionPill(l) : h("span", { class: "muted" }, "nothing arrived");
          const select = h("select", { name: `disposition-${l.line}`, "aria-label": `Disposition of line ${l.line}` },
            h("option", { value: "" }, "not yet"), Object.entries(DISPOSITIONS).map(([v, text]) => h("option", { value: v }, text)));
          const note = h("input", { name: `note-${l.line}`, placeholder: "note (optional)", "aria-label": `Note on line ${l.line}`, maxlength: "2000" });
          choices.set(l.line, { select, note });
          return h("div", { class: "inspect" }, select, note);
        } },
      ], rma.lines, { cls: "compact rma-step" });
      const save = h("button", { type: "submit", class: "primary", "data-action": "inspect" }, "Record the inspection");
      return h("form", { class: "form", novalidate: true, dataset: { form: "inspect" }, onsubmit: async (e) => {
        e.preventDefault();
        error.replaceChildren();
        const lines = [...choices].filter(([, c]) => c.select.value).map(([line, c]) => ({
          line, disposition: c.select.value, ...(c.note.value.trim() ? { note: c.note.value.trim() } : {}),
        }));
        if (!lines.length) { error.replaceChildren(h("div", { class: "callout error" }, "Choose a disposition for at least one line.")); return; }
        save.disabled = true;
        try {
          const after = await api.post(`/rma/${encodeURIComponent(rma.id)}/inspect`, { lines });
          toast(`Return ${short(rma.id)}: ${lines.length} line${lines.length === 1 ? "" : "s"} inspected${after.status === "closed" ? ", closed" : ""}`);
          await Promise.all([loadList(), drawDetail()]);
        } catch (err) {
          save.disabled = false;
          error.replaceChildren(problemBox(err, "The inspection was not recorded"));
        }
      } }, h("h3", {}, "Inspect"), h("p", { class: "hint" }, "Units wait in quality control until their line has a disposition; the return closes when every line that arrived has one."),
      table, h("div", { class: "actions" }, save));
    }
    return [h("h3", {}, "Lines"), dataTable([
      { label: "#", key: "line" },
      { label: "Item", cell: item },
      { label: "Qty", num: true, cell: (l) => fmt(l.qty) },
      { label: "Arrived", num: true, cell: (l) => (l.received === null ? "—" : fmt(l.received)) },
      { label: "Disposition", cell: (l) => (l.disposition ? dispositionPill(l) : "—") },
      { label: "Inspected", opt: true, cell: (l) => (l.inspected_at ? h("span", { title: `${when(l.inspected_at)} by ${l.inspected_by || "?"}${l.inspection_note ? `: ${l.inspection_note}` : ""}` }, day(l.inspected_at)) : "") },
    ], rma.lines, { cls: "compact rma-step" })];
  }

  // ---- a new return -----------------------------------------------------------------------

  async function drawForm() {
    shown = null;
    if (!catalogue.items) {
      detail.replaceChildren(h("p", { class: "muted" }, "Loading the catalogue…"));
      const [items, { locations }] = await Promise.all([allItems(api, { active: true }), api.get("/locations")]);
      catalogue.items = items.filter(stocked);
      catalogue.locations = stockable(locations);
    }
    const lines = h("div", { class: "rma-lines" });
    const addLine = () => {
      const row = h("div", { class: "rma-line" },
        field("SKU", h("input", { name: "sku", list: "rma-skus", spellcheck: "false", required: true, placeholder: "BOOK-DUNE" })),
        field("Quantity", h("input", { name: "qty", inputmode: "numeric", value: "1" })),
        field("Reason", h("input", { name: "reason", maxlength: "200", placeholder: "arrived damaged" })),
        h("button", { type: "button", class: "ghost", "aria-label": "Remove this line", onclick: () => { if (lines.children.length > 1) row.remove(); } }, "×"));
      lines.append(row);
      return row;
    };
    addLine();
    const where = h("select", { name: "location" }, catalogue.locations.map((l) => h("option", { value: l.code }, `${l.code} — ${l.name}`)));
    const error = h("div", { class: "form-error" });
    const form = h("form", { class: "form", novalidate: true, dataset: { form: "rma" } },
      h("div", { class: "fields" },
        field("Comes back to", where),
        field("Order reference", h("input", { name: "order_reference", maxlength: "200", placeholder: "#1001" })),
        field("Customer", h("input", { name: "customer", maxlength: "200", placeholder: "optional" })),
        field("Note", h("input", { name: "note", maxlength: "2000", placeholder: "optional" }))),
      h("h3", {}, "Lines"), lines,
      h("button", { type: "button", class: "ghost", "data-action": "add-line", onclick: () => addLine().querySelector("input").focus() }, "Add a line"),
      error,
      h("div", { class: "actions" },
        h("button", { type: "button", class: "ghost", onclick: () => { creating = false; keep(); drawDetail(); } }, "Cancel"),
        h("button", { type: "submit", class: "primary" }, "Request the return")),
      h("datalist", { id: "rma-skus" }, catalogue.items.map((i) => h("option", { value: i.sku }, i.name))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.replaceChildren();
      const text = (name) => form.elements[name].value.trim() || null;
      const body = {
        location: where.value, order_reference: text("order_reference"), customer: text("customer"), note: text("note"),
        lines: [...lines.children].map((row) => {
          const v = (n) => row.querySelector(`[name=${n}]`).value.trim();
          return { sku: v("sku"), qty: /^\d+$/.test(v("qty")) ? Number(v("qty")) : v("qty"), reason: v("reason") };
        }),
      };
      if (body.lines.some((l) => !l.sku || !l.reason)) {
        error.replaceChildren(h("div", { class: "callout error" }, "Every line needs a SKU, a quantity and why it comes back."));
        return;
      }
      try {
        const made = await api.post("/rma", body);
        toast(`Return ${short(made.id)} requested`);
        if (status !== "all" && status !== "open" && status !== "requested") { status = "open"; pick.value = status; }
        await select(made.id);
      } catch (err) {
        error.replaceChildren(problemBox(err, "The return was not requested"));
      }
    });
    detail.replaceChildren(h("div", { class: "card-head" }, h("h2", {}, "New return")), form);
    form.elements.order_reference.focus();
  }

  pick.addEventListener("change", () => { status = pick.value; keep(); loadList(); });
  add.addEventListener("click", () => { creating = true; keep(); loadList(); drawDetail(); });

  // Someone else moved a return on: redraw the list, and the detail when it is the one shown
  // and its status changed (a form being filled in is not wiped by its own step's echo).
  let recheck = false;
  const refresh = debounce(async () => {
    loadList().catch(() => {});
    if (!recheck || !shown) return;
    recheck = false;
    // Redraw only when the return really is not what is shown: a step's own echo leaves the
    // choices being made in the form alone.
    const id = shown.id;
    try {
      const now = await api.get(`/rma/${encodeURIComponent(id)}`);
      if (shown && shown.id === id && signature(now) !== signature(shown)) await drawDetail();
    } catch { /* the next event or action redraws */ }
  }, 300);
  const figures = debounce(() => {
    const box = detail.querySelector("[data-figures]");
    if (box && shown) drawFigures(box, shown.location, [...new Set(shown.lines.map((l) => l.sku))]).catch(() => {});
  }, 300);
  ctx.onEvent((event) => {
    const type = String(event.type || "");
    if (type.startsWith("rma.")) {
      if (shown && event.rma === shown.id) recheck = true;
      refresh();
    }
    else if (type === "stock.changed" && shown && shown.lines.some((l) => l.sku === event.sku)) figures();
  });
  await Promise.all([loadList(), drawDetail()]);
}
