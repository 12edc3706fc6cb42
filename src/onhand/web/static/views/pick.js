// The picker's phone screen: one line at a time, scan it, count it, confirm with a big button.
import { empty, h, problemBox } from "../lib/dom.js";

export const title = "Pick";

const PICKER_KEY = "onhand.picker";

export async function render(root, ctx) {
  const { api, params } = ctx;
  const screen = h("div", { class: "pick-screen" });
  root.append(screen);
  let picker = params.get("picker") || localStorage.getItem(PICKER_KEY) || "";
  let waveId = params.get("wave") || "";

  function askName() {
    const name = h("input", { type: "text", autocomplete: "name", placeholder: "Your name", value: picker, "aria-label": "Picker name" });
    const go = h("button", { class: "primary pick-big", type: "submit" }, "Start picking");
    screen.replaceChildren(h("form", { class: "pick-card", onsubmit: (e) => {
      e.preventDefault();
      picker = name.value.trim();
      if (!picker) return;
      localStorage.setItem(PICKER_KEY, picker);
      next();
    } }, h("h2", {}, "Who is picking?"), name, go));
    name.focus();
  }

  async function chooseWave() {
    const waves = (await api.get("/waves", { status: "open" })).waves.filter((w) => w.progress.picked < w.progress.lines);
    if (!waves.length) {
      screen.replaceChildren(h("div", { class: "pick-card" }, empty("Nothing to pick", "No open wave has lines left. Ask for a new wave.")));
      return null;
    }
    return waves[waves.length - 1].id; // the oldest open wave first
  }

  async function next(problem) {
    if (!picker) { askName(); return; }
    if (!waveId) waveId = await chooseWave();
    if (!waveId) return;
    const wave = await api.get(`/waves/${encodeURIComponent(waveId)}`);
    const line = wave.lines.find((l) => l.status === "open");
    if (!line) {
      waveId = "";
      screen.replaceChildren(h("div", { class: "pick-card" },
        h("h2", {}, "Wave done"), h("p", { class: "muted" }, `All ${wave.progress.lines} lines are picked.`),
        h("button", { class: "primary pick-big", type: "button", onclick: () => next() }, "Next wave")));
      return;
    }
    const left = wave.progress.lines - wave.progress.picked;
    let qty = line.qty;
    const count = h("output", { class: "pick-qty", "aria-live": "polite" }, String(qty));
    const setQty = (n) => { qty = Math.max(0, Math.min(line.qty, n)); count.textContent = String(qty); };
    const scan = h("input", { type: "text", inputmode: "text", autocomplete: "off", placeholder: "Scan SKU or barcode", "aria-label": "Scan" });
    const confirm = h("button", { class: "primary pick-big", type: "submit" }, "Confirm");
    const form = h("form", { class: "pick-card", onsubmit: async (e) => {
      e.preventDefault();
      const scanned = scan.value.trim();
      if (!scanned) { scan.focus(); return; }
      confirm.disabled = true;
      try {
        await api.post(`/pick-tasks/${encodeURIComponent(line.id)}/confirm`, { picker, scan: scanned, qty });
        await next();
      } catch (err) {
        await next(err);
      }
    } },
      problem ? problemBox(problem, "Not confirmed") : null,
      h("p", { class: "muted small" }, `${left} line${left === 1 ? "" : "s"} left · ${picker}`),
      h("div", { class: "pick-bin" }, line.location),
      h("div", { class: "pick-sku" }, line.sku),
      h("div", { class: "pick-count" },
        h("button", { class: "ghost pick-big", type: "button", "aria-label": "One less", onclick: () => setQty(qty - 1) }, "−"),
        count,
        h("button", { class: "ghost pick-big", type: "button", "aria-label": "One more", onclick: () => setQty(qty + 1) }, "+")),
      h("p", { class: "muted small" }, `Asked: ${line.qty}. Fewer is recorded as a short pick.`),
      scan, confirm);
    screen.replaceChildren(form);
    scan.focus();
  }

  try {
    await next();
  } catch (err) {
    screen.replaceChildren(problemBox(err));
  }
}
