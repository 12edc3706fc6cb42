// Reservations: active holds with the time they have left; filter by SKU, release, extend.

import { card, dataTable, debounce, empty, fmt, h, newKey, problemBox, toast, when } from "../lib/dom.js";

export const title = "Reservations";

function left(seconds) {
  if (seconds <= 0) return "lapsed";
  const m = Math.floor(seconds / 60), s = seconds % 60;
  return m ? `${m} min ${String(s).padStart(2, "0")} s` : `${s} s`;
}

export async function render(root, ctx) {
  const { api } = ctx;
  let sku = ctx.params.get("sku") || "";
  let holds = [];
  let loadedAt = Date.now();
  const search = h("input", { type: "search", name: "sku", placeholder: "Filter by SKU", "aria-label": "SKU", value: sku });
  const box = h("div");
  const errors = h("div", { class: "form-error" });
  root.append(card("Active holds", search, errors, box));

  function remaining(hold) {
    return hold.seconds_left - Math.floor((Date.now() - loadedAt) / 1000);
  }

  function draw() {
    box.replaceChildren(holds.length
      ? dataTable([
        { label: "Hold", cell: (r) => h("span", { class: "sku", title: r.id }, r.id.slice(0, 8)) },
        { label: "Reference", key: "reference", opt: true },
        { label: "Lines", cell: (r) => r.lines.map((l) => `${l.sku} ×${fmt(l.qty)}`).join(", ") },
        { label: "Created", opt: true, cell: (r) => when(r.created_at) },
        { label: "Time left", num: true, sort: (r) => r.seconds_left, cell: (r) => h("span", { class: "left", dataset: { id: r.id } }, left(remaining(r))) },
        { label: "", cell: (r) => h("span", { class: "row" },
          h("button", { type: "button", class: "ghost", "data-action": "extend", onclick: () => extend(r) }, "+15 min"),
          h("button", { type: "button", class: "ghost", "data-action": "release", onclick: () => release(r) }, "Release")) },
      ], holds, { sortable: true })
      : empty(sku ? `No active holds on ${sku}` : "No active holds", "Checkouts hold stock here while the buyer pays."));
  }

  async function load() {
    holds = (await api.get("/console/holds", { sku })).holds;
    loadedAt = Date.now();
    draw();
  }

  async function release(hold) {
    try {
      await api.post(`/reservations/${hold.id}/release`, {}, { "Idempotency-Key": newKey() });
      toast(`Hold ${hold.id.slice(0, 8)} released`);
      await load();
    } catch (err) {
      errors.replaceChildren(problemBox(err, "The hold was not released"));
    }
  }

  async function extend(hold) {
    try {
      const ttl = Math.max(remaining(hold), 0) + 900;
      await api.post(`/reservations/${hold.id}/extend`, { ttl_seconds: Math.min(ttl, 86400) }, { "Idempotency-Key": newKey() });
      toast(`Hold ${hold.id.slice(0, 8)} extended`);
      await load();
    } catch (err) {
      errors.replaceChildren(problemBox(err, "The hold was not extended"));
    }
  }

  search.addEventListener("input", debounce(() => { sku = search.value.trim(); ctx.setParams(sku ? { sku } : {}); load(); }, 250));
  ctx.onEvent((e) => { if (String(e.type || "").startsWith("reservation.")) load(); });
  const tick = setInterval(() => {
    for (const el of box.querySelectorAll(".left")) {
      const hold = holds.find((x) => x.id === el.dataset.id);
      if (hold) el.textContent = left(remaining(hold));
    }
  }, 1000);
  await load();
  return () => clearInterval(tick);
}
