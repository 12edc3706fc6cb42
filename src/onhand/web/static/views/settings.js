// Settings: the tenant's time zone, hold lifetime and allocation; the planning parameters.

import { card, field, h, problemBox, toast } from "../lib/dom.js";

export const title = "Settings";

export async function render(root, ctx) {
  const { api } = ctx;
  const [tenant, plan] = await Promise.all([api.get("/settings"), api.get("/plan/settings")]);

  const tenantForm = h("form", { class: "form", novalidate: true, dataset: { form: "tenant" } },
    h("div", { class: "fields" },
      field("Time zone", h("input", { name: "timezone", value: tenant.timezone, spellcheck: "false" })),
      field("Hold lifetime (seconds)", h("input", { name: "reservation_ttl_seconds", inputmode: "numeric", value: tenant.reservation_ttl_seconds ?? "", placeholder: "server default" })),
      field("Allocation", h("select", { name: "allocation" }, ["priority", "most_stock", "nearest_zone"].map((s) => h("option", { value: s }, s.replaceAll("_", " ")))))),
    h("div", { class: "form-error" }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save")));
  tenantForm.allocation.value = tenant.allocation;

  const numbers = ["service_level", "ordering_cost", "holding_rate", "history_days", "horizon_days", "review_days", "default_lead_time_days"];
  const labels = { service_level: "Service level (0.5–0.999)", ordering_cost: "Ordering cost per line", holding_rate: "Holding rate a year", history_days: "History (days)", horizon_days: "Horizon (days)", review_days: "Review period (days)", default_lead_time_days: "Default lead time (days)" };
  const planForm = h("form", { class: "form", novalidate: true, dataset: { form: "plan" } },
    h("div", { class: "fields" }, numbers.map((n) => field(labels[n], h("input", { name: n, inputmode: "decimal", value: plan[n] ?? "" })))),
    h("div", { class: "form-error" }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save")));

  async function save(form, path, body) {
    const error = form.querySelector(".form-error");
    error.replaceChildren();
    try {
      await api.patch(path, body);
      toast("Saved");
    } catch (err) {
      error.replaceChildren(problemBox(err, "Not saved"));
    }
  }
  tenantForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const ttl = tenantForm.reservation_ttl_seconds.value.trim();
    const body = { timezone: tenantForm.timezone.value.trim(), allocation: tenantForm.allocation.value };
    if (ttl) body.reservation_ttl_seconds = /^\d+$/.test(ttl) ? Number(ttl) : ttl;
    save(tenantForm, "/settings", body);
  });
  planForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = {};
    for (const n of numbers) {
      const v = planForm[n].value.trim();
      if (v !== "") body[n] = n === "ordering_cost" ? v : Number.isFinite(Number(v)) ? Number(v) : v;
    }
    save(planForm, "/plan/settings", body);
  });
  root.append(h("div", { class: "split" },
    h("div", { class: "col" }, card("Tenant", h("span", { class: "tenant" }, ctx.tenant), tenantForm)),
    h("div", { class: "col" }, card("Planning", null, planForm))));
}
