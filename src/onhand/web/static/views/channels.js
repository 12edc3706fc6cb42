// Channels: Shopify stores and partner stores, their status, "Sync Now", runs and items.
import { card, dataTable, empty, field, h, problemBox, toast, when } from "../lib/dom.js";

export const title = "Channels";

const STATUS = { healthy: "ok", warning: "warn", failed: "bad", never: "" };
const RUN = { succeeded: "ok", partial: "warn", failed: "bad", running: "" };

const pill = (text, kind) => h("span", { class: `pill ${kind || ""}`.trim() }, text);

export async function render(root, ctx) {
  const { api, params, navigate, onEvent } = ctx;
  const list = h("div", { class: "col" });
  const detail = h("div", { class: "col" });
  root.append(h("div", { class: "split" }, list, detail));
  let timer = null;

  async function loadList() {
    let channels;
    try {
      channels = (await api.get("/channels")).channels;
    } catch (err) {
      list.replaceChildren(card(title, null, problemBox(err, "Channels could not be loaded")));
      return;
    }
    const syncAll = h("button", { class: "primary", onclick: () => start("/sync", syncAll) }, "Sync all now");
    const table = channels.length
      ? dataTable(
        [
          { label: "Channel", cell: (c) => h("span", { class: "sku" }, c.code), sort: (c) => c.code },
          { label: "Role", key: "role" },
          { label: "Store", key: "shop", opt: true },
          { label: "Status", cell: (c) => pill(c.status, STATUS[c.status]), sort: (c) => c.status },
          { label: "Last sync", cell: (c) => (c.last_sync ? when(c.last_sync.started_at) : "never"), opt: true },
          { label: "", cell: (c) => h("button", { class: "ghost", onclick: (e) => { e.stopPropagation(); start(`/channels/${encodeURIComponent(c.code)}/sync`, e.target); } }, "Sync now") },
        ],
        channels,
        {
          sortable: true,
          onRow: (c) => navigate("channels", new URLSearchParams({ channel: c.code })),
          rowClass: (c) => (c.code === params.get("channel") ? "selected" : null),
        },
      )
      : empty("No channels yet", "Connect a Shopify store with POST /channels or `onhand channels add`.");
    list.replaceChildren(card(title, syncAll, table));
  }

  async function start(path, button) {
    button.disabled = true;
    try {
      const answer = await api.post(path);
      const count = answer.runs ? answer.runs.length : 1;
      toast(`${count} sync${count === 1 ? "" : "s"} started`);
      refreshSoon();
    } catch (err) {
      toast(err.message, "bad");
    } finally {
      button.disabled = false;
    }
  }

  function refreshSoon() {
    clearTimeout(timer);
    timer = setTimeout(() => { loadList(); loadDetail(); }, 1500);
  }

  async function loadDetail() {
    const code = params.get("channel");
    if (!code) {
      detail.replaceChildren(card("Runs", null, empty("Pick a channel", "Its settings and sync history show here.")));
      return;
    }
    let channel, runs;
    try {
      [channel, runs] = await Promise.all([
        api.get(`/channels/${encodeURIComponent(code)}`),
        api.get("/sync-runs", { channel: code, limit: 20 }),
      ]);
    } catch (err) {
      detail.replaceChildren(card(code, null, problemBox(err, "The channel could not be loaded")));
      return;
    }
    detail.replaceChildren(settingsCard(channel), runsCard(runs.runs), h("div", { id: "run-items" }));
    const open = params.get("run") || (runs.runs[0] && runs.runs[0].id);
    if (open) showRun(open);
  }

  function settingsCard(channel) {
    const enabled = h("input", { type: "checkbox", checked: channel.enabled });
    const every = h("input", { type: "number", min: "1", max: "10080", value: channel.sync_interval_minutes });
    const error = h("div", { class: "form-error" });
    const form = h("form", { class: "form", onsubmit: async (e) => {
      e.preventDefault();
      error.replaceChildren();
      try {
        await api.patch(`/channels/${encodeURIComponent(channel.code)}`, {
          enabled: enabled.checked, sync_interval_minutes: Number(every.value),
        });
        toast("Saved");
        loadList();
      } catch (err) {
        error.replaceChildren(problemBox(err));
      }
    } },
    h("div", { class: "fields" },
      h("label", { class: "check" }, enabled, "Enabled (hourly schedule and live push)"),
      field("Sync every (minutes)", every),
      h("p", { class: "hint wide" }, `${channel.role === "partner" ? "Partner: onhand reads its stock (the partner wins)." : "Store: onhand pushes availability."} Token ${channel.access_token}. Locations: ${channel.locations.map((l) => `${l.location} → ${l.channel_location}`).join(", ") || "none"}.`)),
    error,
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit" }, "Save")));
    const last = channel.last_sync;
    return card(`${channel.code} · ${channel.shop}`, pill(channel.status, STATUS[channel.status]),
      last && last.error ? h("div", { class: "callout error" }, h("strong", {}, "Last sync failed"), h("span", {}, last.error)) : null,
      form);
  }

  function runsCard(runs) {
    if (!runs.length) return card("Runs", null, empty("No runs yet", "Press “Sync now”."));
    return card("Runs", null, dataTable(
      [
        { label: "Started", cell: (r) => when(r.started_at) },
        { label: "Trigger", key: "trigger", opt: true },
        { label: "Status", cell: (r) => pill(r.status, RUN[r.status]) },
        { label: "Written", key: "items_ok", num: true },
        { label: "Same", key: "items_unchanged", num: true, opt: true },
        { label: "Failed", key: "items_failed", num: true },
        { label: "Skipped", key: "items_skipped", num: true, opt: true },
      ],
      runs,
      { onRow: (r) => showRun(r.id), rowClass: (r) => (r.id === params.get("run") ? "selected" : null) },
    ));
  }

  async function showRun(id) {
    const holder = detail.querySelector("#run-items");
    if (!holder) return;
    try {
      const run = await api.get(`/sync-runs/${encodeURIComponent(id)}`);
      const items = run.items.length
        ? dataTable(
          [
            { label: "SKU", cell: (i) => h("span", { class: "sku" }, i.sku || "") },
            { label: "Status", cell: (i) => pill(i.status, { ok: "ok", failed: "bad", skipped: "warn" }[i.status]) },
            { label: "Before", key: "before", num: true },
            { label: "After", key: "after", num: true },
            { label: "Offered because", cell: (i) => offer(i.offer), opt: true },
            { label: "Error", cell: (i) => i.error || "" },
          ],
          run.items, // failed first, as the API orders them
        )
        : empty("No items", run.status === "running" ? "The run is still going." : "Nothing was mapped.");
      holder.replaceChildren(card(`Run ${when(run.started_at)}`, pill(run.status, RUN[run.status]),
        run.error ? h("div", { class: "callout error" }, h("span", {}, run.error)) : null, items));
    } catch (err) {
      holder.replaceChildren(card("Run", null, problemBox(err, "The run could not be loaded")));
    }
  }

  function offer(o) {
    if (!o) return "";
    if (o.buffer) return `${o.available} available − buffer ${o.buffer}`;
    if (o.share !== undefined) return `${o.share} % of ${o.available} available`;
    return `${o.available} available`;
  }

  const unsubscribe = onEvent((event) => {
    if (event.type === "channel.sync_failed") refreshSoon();
  });
  await Promise.all([loadList(), loadDetail()]);
  return () => { clearTimeout(timer); unsubscribe(); };
}
