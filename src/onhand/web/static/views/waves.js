// Waves: group open pick tasks, follow each wave's progress per picker, ship it.
import { card, dataTable, debounce, empty, h, problemBox, toast, when } from "../lib/dom.js";

export const title = "Waves";

const TYPES = new Set(["pick.confirmed", "wave.created", "wave.shipped", "backorder.allocated"]);

export async function render(root, ctx) {
  const { api, params } = ctx;
  let selected = params.get("wave") || "";
  const list = h("div");
  const detail = h("div");
  const zone = h("input", { type: "text", placeholder: "all zones", "aria-label": "Zone", size: 10 });
  const groupBy = h("select", { "aria-label": "Group by" },
    h("option", { value: "zone" }, "by zone"), h("option", { value: "size" }, "by size"));
  const size = h("input", { type: "number", min: 1, value: 30, "aria-label": "Lines per wave", size: 4 });
  const create = h("button", { class: "primary", type: "button" }, "New wave");
  const openCount = h("span", { class: "muted small", "data-count": "open-tasks" });
  root.append(h("div", { class: "split" },
    h("div", { class: "col" },
      card("Open pick lines", h("span", {}, openCount), h("div", { class: "row" }, groupBy, zone, size, create)),
      card("Waves", null, list)),
    h("div", { class: "col" }, detail)));

  async function load() {
    const [tasks, waves] = await Promise.all([api.get("/pick-tasks"), api.get("/waves")]);
    openCount.textContent = `${tasks.tasks.length} lines waiting`;
    list.replaceChildren(waves.waves.length
      ? dataTable([
        { label: "Wave", cell: (w) => h("span", { class: "sku" }, w.id.slice(0, 8)) },
        { label: "Zone", key: "zone" },
        { label: "Picked", num: true, cell: (w) => `${w.progress.picked} / ${w.progress.lines}` },
        { label: "Status", cell: (w) => h("span", { class: `pill ${w.status === "shipped" ? "ok" : "warn"}` }, w.status) },
        { label: "Created", opt: true, cell: (w) => when(w.created_at) },
      ], waves.waves, { onRow: (w) => { selected = w.id; ctx.navigate("waves", { wave: w.id }); }, rowClass: (w) => (w.id === selected ? "selected" : null) })
      : empty("No waves yet", "Group the open pick lines into a wave."));
    await drawDetail();
  }

  async function drawDetail() {
    if (!selected) {
      detail.replaceChildren(card("Pick list", null, empty("No wave selected", "Choose a wave to see its pick list.")));
      return;
    }
    let wave;
    try {
      wave = await api.get(`/waves/${encodeURIComponent(selected)}`);
    } catch (err) {
      detail.replaceChildren(card("Pick list", null, problemBox(err)));
      return;
    }
    const ship = h("button", { class: "primary", type: "button", disabled: wave.status === "shipped" || wave.progress.picked < wave.progress.lines }, "Pack and ship");
    ship.addEventListener("click", async () => {
      try {
        await api.post(`/waves/${encodeURIComponent(wave.id)}/ship`);
        toast("Wave shipped");
        await load();
      } catch (err) {
        detail.prepend(problemBox(err));
      }
    });
    const pickLink = h("a", { href: `/dashboard/pick?wave=${encodeURIComponent(wave.id)}`, onclick: (e) => { e.preventDefault(); ctx.navigate("pick", { wave: wave.id }); } }, "Open the pick screen →");
    detail.replaceChildren(
      card(`Wave ${wave.id.slice(0, 8)}`, h("div", { class: "row" }, pickLink, ship),
        h("div", { class: "tiles" },
          h("div", { class: "tile" }, h("span", { class: "label" }, "Lines"), h("span", { class: "value" }, wave.progress.lines)),
          h("div", { class: "tile" }, h("span", { class: "label" }, "Picked"), h("span", { class: "value" }, wave.progress.picked))),
        wave.pickers.length
          ? dataTable([
            { label: "Picker", key: "picker" },
            { label: "Lines", key: "lines", num: true },
            { label: "Short", key: "short", num: true },
          ], wave.pickers, { cls: "compact" })
          : h("p", { class: "muted small" }, "No line picked yet.")),
      card("Pick list (walking order)", null, dataTable([
        { label: "Bin", cell: (t) => h("span", { class: "sku" }, t.location) },
        { label: "SKU", cell: (t) => h("span", { class: "sku" }, t.sku) },
        { label: "Qty", key: "qty", num: true },
        { label: "Picked", num: true, cell: (t) => (t.picked === null ? "—" : t.picked) },
        { label: "Picker", key: "picker", opt: true },
        { label: "Status", cell: (t) => h("span", { class: `pill ${t.short ? "warn" : t.status === "open" ? "" : "ok"}` }, t.short ? `short ${t.short}` : t.status) },
      ], wave.lines)));
  }

  create.addEventListener("click", async () => {
    const body = { group_by: groupBy.value, zone: zone.value.trim() || null };
    if (groupBy.value === "size") body.max_lines = Number(size.value) || 30;
    try {
      const made = await api.post("/waves", body);
      toast(made.waves.length ? `${made.waves.length} wave(s) created` : "No open lines to group", made.waves.length ? "ok" : "warn");
      if (made.waves.length) { selected = made.waves[0].id; ctx.navigate("waves", { wave: selected }); return; }
      await load();
    } catch (err) {
      list.prepend(problemBox(err));
    }
  });

  const refresh = debounce(() => { load().catch(() => {}); }, 300);
  const off = ctx.onEvent((event) => { if (TYPES.has(event.type)) refresh(); });
  await load();
  return off;
}
