// Cycle counts: today's tasks in walking order, counted blind with big inputs for a phone;
// counts beyond tolerance waiting for a manager; the programme per ABC class; accuracy.

import { card, dataTable, day, debounce, empty, fmt, h, pct, problemBox, toast, when } from "../lib/dom.js";

export const title = "Counts";

const CLASSES = ["A", "B", "C"];
const quantity = (v) => (/^\d+$/.test(v) ? Number(v) : v);

/** The date in the tenant's time zone, as yyyy-mm-dd. */
function today(timezone) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: timezone || undefined, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

export async function render(root, ctx) {
  const { api } = ctx;
  const settings = await api.get("/settings");
  const names = new Map(); // sku → item (name, unit), fetched once
  const cards = new Map(); // open task id → its count card, kept across refreshes
  let programme = null;
  let days = Number(ctx.params.get("days")) || 90;

  const generate = h("button", { type: "button", class: "primary", "data-action": "generate" }, "Make today's tasks");
  const summary = h("span", { class: "muted small", dataset: { count: "open" } });
  const taskList = h("div", { class: "count-list" });
  const taskError = h("div", { class: "form-error" });
  const reviewBox = h("div");
  const reviewError = h("div", { class: "form-error" });
  const postedBox = h("div");
  const accuracyBox = h("div");
  const programmeBox = h("div");
  const period = h("select", { "aria-label": "Accuracy over", name: "days" },
    [30, 90, 365].map((d) => h("option", { value: d }, `last ${d} days`)));
  period.value = String([30, 90, 365].includes(days) ? days : 90);
  root.append(h("div", { class: "split" },
    h("div", { class: "col" },
      card("Today's counts", h("div", { class: "row" }, summary, generate), taskError, taskList)),
    h("div", { class: "col" },
      card("Waiting for review", null, reviewError, reviewBox),
      card("Accuracy", period, accuracyBox),
      card("Counted lately", null, postedBox),
      card("Programme", null, programmeBox))));

  async function itemsOf(tasks) {
    const missing = [...new Set(tasks.map((t) => t.sku))].filter((s) => !names.has(s)).slice(0, 100);
    await Promise.all(missing.map(async (sku) => {
      try { names.set(sku, await api.get(`/items/${encodeURIComponent(sku)}`)); } catch { names.set(sku, null); }
    }));
  }
  const unitOf = (sku) => (names.get(sku) || {}).unit;

  // ---- today's tasks: blind, one card each, in walking order -------------------------------

  async function loadOpen() {
    const on = today(settings.timezone);
    const { tasks } = await api.get("/counts/tasks", { status: "open", due_by: on, limit: 500 });
    await itemsOf(tasks);
    summary.textContent = tasks.length ? `${tasks.length} to count` : "";
    const keep = new Set(tasks.map((t) => t.id));
    for (const id of [...cards.keys()]) if (!keep.has(id)) cards.delete(id);
    if (!tasks.length) {
      taskList.replaceChildren(empty("Nothing to count today", "The hourly job makes the day's tasks; “Make today's tasks” does it now."));
      return;
    }
    // Cards already on screen stay as they are, so a figure being typed survives a refresh.
    taskList.replaceChildren(...tasks.map((t, i) => {
      const el = cards.get(t.id) || countCard(t);
      cards.set(t.id, el);
      el.querySelector(".count-step").textContent = String(i + 1);
      return el;
    }));
    function countCard(task) {
      const item = names.get(task.sku);
      const input = h("input", {
        name: "counted", inputmode: item && item.unit !== "each" ? "decimal" : "numeric", autocomplete: "off",
        placeholder: item && item.unit !== "each" ? `on the shelf (${item.unit})` : "on the shelf",
        "aria-label": `Counted ${task.sku} at ${task.location}`,
      });
      const button = h("button", { type: "submit", class: "primary pick-big" }, "Counted");
      const error = h("div", { class: "form-error" });
      return h("form", { class: "count-task", novalidate: true, dataset: { task: task.id, sku: task.sku, location: task.location }, onsubmit: async (e) => {
        e.preventDefault();
        const v = input.value.trim();
        error.replaceChildren();
        if (!v) { input.focus(); return; }
        button.disabled = true;
        try {
          const done = await api.post(`/counts/tasks/${encodeURIComponent(task.id)}/count`, { counted: quantity(v) });
          toast(done.status === "posted"
            ? `${task.sku} at ${task.location}: ${fmt(done.counted, unitOf(task.sku))} posted`
            : `${task.sku} at ${task.location}: beyond tolerance, waiting for review`, done.status === "posted" ? "ok" : "warn");
          await loadAll();
        } catch (err) {
          button.disabled = false;
          error.replaceChildren(problemBox(err, "The count was not recorded"));
        }
      } },
        h("div", { class: "count-where" },
          h("span", { class: "count-step" }),
          h("span", { class: "count-bin" }, task.location),
          h("span", { class: `pill ${task.abc_class === "A" ? "warn" : "plain"}`, title: "ABC class" }, `class ${task.abc_class}`),
          task.due_on < today(settings.timezone) ? h("span", { class: "pill bad" }, `due ${day(task.due_on)}`) : null),
        h("div", { class: "count-sku" }, h("span", { class: "sku" }, task.sku), item ? h("span", { class: "name" }, item.name) : null),
        h("div", { class: "count-entry" }, input, button),
        error);
    }
  }

  // ---- counts beyond tolerance, and the latest posted ---------------------------------------

  function allowed(t) {
    const rule = programme && programme[t.abc_class];
    if (!rule || t.expected === null) return null;
    return Math.max(rule.tolerance_units, (t.expected * Number(rule.tolerance_pct)) / 100);
  }

  const itemCell = (t) => h("span", { class: "item" },
    h("span", { class: "name" }, (names.get(t.sku) || {}).name || t.sku),
    h("span", { class: "sku" }, t.sku),
    h("span", { class: "small muted" }, `${t.location} · class ${t.abc_class}`));
  const variance = (t) => h("span", { class: `delta ${t.variance > 0 ? "up" : t.variance < 0 ? "down" : ""}` },
    t.variance > 0 ? `+${fmt(t.variance)}` : fmt(t.variance));
  const stat = (label, key, value) => h("div", { class: "stat" },
    h("span", { class: "label" }, label), h("span", { class: "value", dataset: { figure: key } }, value));

  async function loadReview() {
    const [{ tasks: review }, { tasks: posted }] = await Promise.all([
      api.get("/counts/tasks", { status: "review", limit: 500 }),
      api.get("/counts/tasks", { status: "posted", limit: 500 }),
    ]);
    await itemsOf([...review, ...posted]);
    // One block a count: it fits a phone, and the buttons stay in reach.
    reviewBox.replaceChildren(review.length
      ? h("div", { class: "review-list" }, review.map((t) => h("div", { class: "review-task", dataset: { task: t.id } },
        h("div", { class: "count-sku" }, h("span", { class: "name" }, (names.get(t.sku) || {}).name || t.sku),
          h("span", { class: "sku" }, `${t.sku} · ${t.location} · class ${t.abc_class}`)),
        h("div", { class: "review-figures" },
          stat("Expected", "expected", fmt(t.expected, unitOf(t.sku))),
          stat("Counted", "counted", fmt(t.counted, unitOf(t.sku))),
          stat("Variance", "variance", variance(t)),
          allowed(t) === null ? null : stat("Allowed", "allowed", `± ${fmt(Math.floor(allowed(t)))}`)),
        h("div", { class: "row" },
          h("span", { class: "muted small" }, `counted by ${t.counted_by || "?"}, ${when(t.counted_at)}`),
          h("span", { class: "spacer" }),
          h("button", { type: "button", class: "ghost", "data-action": "recount", onclick: () => decide(t, "recount") }, "Recount"),
          h("button", { type: "button", class: "primary", "data-action": "approve", onclick: () => decide(t, "approve") }, "Approve")))))
      : empty("Nothing to review", "Counts beyond their class's tolerance wait here for a manager."));
    const recent = posted.filter((t) => t.counted_at).sort((a, b) => (a.counted_at < b.counted_at ? 1 : -1)).slice(0, 10);
    postedBox.replaceChildren(recent.length
      ? dataTable([
        { label: "Item", cell: itemCell },
        { label: "Expected", num: true, cell: (t) => fmt(t.expected, unitOf(t.sku)) },
        { label: "Counted", num: true, cell: (t) => fmt(t.counted, unitOf(t.sku)) },
        { label: "Variance", num: true, cell: (t) => h("span", { class: "why" }, variance(t),
          h("span", { class: "muted" }, t.within ? "within" : "approved")) },
      ], recent, { cls: "compact posted" })
      : empty("No counts posted yet", null));
  }

  async function decide(task, step) {
    reviewError.replaceChildren();
    try {
      await api.post(`/counts/tasks/${encodeURIComponent(task.id)}/${step}`);
      toast(step === "approve"
        ? `${task.sku} at ${task.location}: variance ${task.variance > 0 ? "+" : ""}${task.variance} posted`
        : `${task.sku} at ${task.location}: sent back to be counted again`);
      await loadAll();
    } catch (err) {
      reviewError.replaceChildren(problemBox(err, "Not decided"));
    }
  }

  // ---- accuracy and the programme -----------------------------------------------------------

  async function loadAccuracy() {
    const acc = await api.get("/counts/accuracy", { days });
    const tile = (label, share, key) => h("div", { class: "tile", dataset: { accuracy: key } },
      h("span", { class: "label" }, label),
      h("span", { class: "value" }, share.accuracy === null ? "—" : pct(share.accuracy)),
      h("span", { class: "small muted" }, `${share.within} of ${share.counted} within`));
    accuracyBox.replaceChildren(...[
      h("div", { class: "tiles" }, tile("All counts", acc, "all"), CLASSES.map((c) => tile(`Class ${c}`, acc.by_class[c], c))),
      acc.by_week.length
        ? [h("h3", {}, "By week"), dataTable([
          { label: "Week", key: "week" },
          { label: "Counted", key: "counted", num: true },
          { label: "Within", key: "within", num: true },
          { label: "Accuracy", num: true, cell: (w) => pct(w.accuracy) },
          { label: "", cell: (w) => h("span", { class: "hbar ontime" }, h("span", { class: "fill", dataset: { share: w.accuracy ?? 0 } })) },
        ], acc.by_week, { cls: "compact weeks" })]
        : h("p", { class: "muted small" }, "No counts in this period yet.")].flat());
    // Widths through the CSSOM (the CSP forbids style attributes).
    for (const bar of accuracyBox.querySelectorAll(".fill")) bar.style.width = `${Math.round(Number(bar.dataset.share) * 100)}%`;
  }

  async function loadProgramme() {
    programme = await api.get("/counts/programme");
    const input = (c, key, mode) => h("input", { name: `${c}-${key}`, inputmode: mode, value: String(programme[c][key]), "aria-label": `${key.replaceAll("_", " ")} of class ${c}` });
    const error = h("div", { class: "form-error" });
    const form = h("form", { class: "form", novalidate: true, dataset: { form: "programme" } },
      h("div", { class: "table-wrap" }, h("table", { class: "data compact programme" },
        h("thead", {}, h("tr", {}, h("th", {}, "Class"), h("th", { class: "num" }, "Every (days)"), h("th", { class: "num" }, "Tolerance %"), h("th", { class: "num" }, "or units"))),
        h("tbody", {}, CLASSES.map((c) => h("tr", {},
          h("td", {}, h("strong", {}, c)),
          h("td", { class: "num" }, input(c, "every_days", "numeric")),
          h("td", { class: "num" }, input(c, "tolerance_pct", "decimal")),
          h("td", { class: "num" }, input(c, "tolerance_units", "numeric"))))))),
      h("p", { class: "hint" }, programme.updated_at ? `Saved ${when(programme.updated_at)}.` : "The default programme: A monthly, B quarterly, C yearly.",
        " A count within the larger of the two tolerances posts itself; beyond it a manager decides."),
      error,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save programme")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.replaceChildren();
      const value = (c, key) => form.elements[`${c}-${key}`].value.trim();
      const whole = (v) => (/^\d+$/.test(v) ? Number(v) : v);
      const body = Object.fromEntries(CLASSES.map((c) => [c, {
        every_days: whole(value(c, "every_days")),
        tolerance_pct: value(c, "tolerance_pct"),
        tolerance_units: whole(value(c, "tolerance_units")),
      }]));
      try {
        await api.put("/counts/programme", body);
        toast("Programme saved");
        await Promise.all([loadProgramme(), loadReview()]);
      } catch (err) {
        error.replaceChildren(problemBox(err, "The programme was not saved"));
      }
    });
    programmeBox.replaceChildren(form);
  }

  async function loadAll() {
    await Promise.all([loadOpen(), loadReview(), loadAccuracy()]);
  }

  generate.addEventListener("click", async () => {
    taskError.replaceChildren();
    generate.disabled = true;
    try {
      const made = await api.post(`/counts/tasks/generate?on=${today(settings.timezone)}`);
      toast(made.created ? `${made.created} task${made.created === 1 ? "" : "s"} made for ${day(made.on)}` : `No new tasks for ${day(made.on)}: ${made.open} open`);
      await loadAll();
    } catch (err) {
      taskError.replaceChildren(problemBox(err, "No tasks were made"));
    } finally {
      generate.disabled = false;
    }
  });
  period.addEventListener("change", () => {
    days = Number(period.value);
    ctx.setParams(days === 90 ? {} : { days });
    loadAccuracy();
  });

  // A count or an approval somewhere else posts a movement: refresh the lists (open cards stay).
  const refresh = debounce(() => { loadAll().catch(() => {}); }, 400);
  ctx.onEvent((event) => {
    if (event.type === "stock.changed" && (event.reason === "count" || event.reason === "adjustment")) refresh();
  });
  await loadProgramme();
  await loadAll();
}
