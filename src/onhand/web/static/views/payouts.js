// Picker payouts: today's pickers and their bracket (live), a period's amounts, CSV export.
import { card, dataTable, debounce, download, empty, h, pct, problemBox } from "../lib/dom.js";

export const title = "Payouts";

const today = () => new Date().toISOString().slice(0, 10);

export async function render(root, ctx) {
  const { api, params } = ctx;
  const tile = h("div");
  const table = h("div");
  const period = h("input", { type: "text", value: params.get("period") || today().slice(0, 7), "aria-label": "Period", size: 12 });
  const csv = h("button", { class: "ghost", type: "button" }, "Export CSV");
  root.append(h("div", { class: "col" },
    card("Today's pickers", h("span", { class: "muted small" }, "live"), tile),
    card("Payouts", h("div", { class: "row" }, period, csv), table)));

  const row = (p) => p.days[p.days.length - 1] || {};
  async function drawToday() {
    let doc;
    try {
      doc = await api.get("/payouts", { period: today() });
    } catch (err) {
      tile.replaceChildren(err.status === 404 ? empty("No brackets yet", "Set them with PUT /payouts/brackets (see docs/fulfilment.md).") : problemBox(err));
      return;
    }
    tile.replaceChildren(doc.pickers.length
      ? h("div", { class: "tiles" }, doc.pickers.map((p) => h("div", { class: `tile ${row(p).accurate ? "level-ok" : "level-low"}`, "data-picker": p.picker },
        h("span", { class: "label" }, p.picker),
        h("span", { class: "value" }, `Bracket ${row(p).bracket ?? "—"}`),
        h("span", { class: "small muted" }, `${p.lines} lines · ${pct(row(p).accuracy)} · ${p.amount} ${doc.currency}`))))
      : empty("No picks today", "Confirmed pick lines show up here as they happen."));
  }

  async function drawPeriod() {
    try {
      const doc = await api.get("/payouts", { period: period.value.trim() });
      table.replaceChildren(doc.pickers.length
        ? dataTable([
          { label: "Picker", key: "picker" },
          { label: "Lines", key: "lines", num: true },
          { label: "Errors", key: "errors", num: true },
          { label: "Days", num: true, cell: (p) => p.days.length },
          { label: `Amount (${doc.currency})`, key: "amount", num: true, sort: (p) => Number(p.amount) },
        ], doc.pickers, { sortable: true })
        : empty("No picks in this period", `${doc.from} to ${doc.to}`),
      h("p", { class: "muted small" }, `Total ${doc.total} ${doc.currency}`));
    } catch (err) {
      table.replaceChildren(problemBox(err));
    }
  }

  period.addEventListener("change", () => { ctx.navigate("payouts", { period: period.value.trim() }); });
  csv.addEventListener("click", async () => {
    try {
      download(`payouts-${period.value.trim()}.csv`, await api.text("/payouts", { period: period.value.trim(), format: "csv" }));
    } catch (err) {
      table.prepend(problemBox(err));
    }
  });
  const refresh = debounce(() => { drawToday(); drawPeriod(); }, 500);
  const off = ctx.onEvent((event) => { if (event.type === "pick.confirmed") refresh(); });
  await Promise.all([drawToday(), drawPeriod()]);
  return off;
}
