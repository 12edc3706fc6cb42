// Small DOM and formatting helpers shared by the shell and every view.

const numberFormat = new Intl.NumberFormat();
const timeFormat = new Intl.DateTimeFormat(undefined,
  { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/** Build an element: h("td", {class: "num"}, "12"). Children are text, never HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value" || key === "checked") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A number in the item's unit; null means unlimited. */
export function fmt(n, unit) {
  if (n === null || n === undefined) return "∞";
  const text = numberFormat.format(n);
  return unit && unit !== "each" ? `${text} ${unit}` : text;
}

export function money(value) {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  return Number.isFinite(n) ? n.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : String(value);
}

export function pct(value) {
  return value === null || value === undefined ? "—" : `${(Number(value) * 100).toFixed(1)} %`;
}

export function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : timeFormat.format(d);
}

export function day(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : dayFormat.format(d);
}

export const words = (s) => String(s ?? "").replaceAll("_", " ");

export function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

export function toast(message, kind = "ok") {
  const el = $("#toast");
  el.textContent = message;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 4000);
}

/** A card: h2 title, optional tools on the right, then the body. */
export function card(title, tools, ...body) {
  return h("section", { class: "card" },
    h("div", { class: "card-head" }, h("h2", {}, title), tools ? h("div", { class: "tools" }, tools) : null),
    ...body);
}

export function empty(strong, text, ...extra) {
  return h("div", { class: "empty" }, h("strong", {}, strong), text ? h("span", {}, text) : null, ...extra);
}

/** The problem+json of a refused request, as a callout. */
export function problemBox(err, title = "The request was refused") {
  const problem = err.problem || {};
  return h("div", { class: "callout error", role: "alert" },
    h("strong", {}, problem.title || title),
    h("span", {}, err.message),
    ...((problem.errors || []).length > 1
      ? problem.errors.map((e) => h("span", { class: "small" }, `${e.field}: ${e.message}`)) : []));
}

/**
 * A table. columns: [{label, key?, cell?(row), num?, opt?, sort?(row)}]; rows: objects.
 * Sortable when a column has `sort` or `key`: clicking its header sorts by it.
 */
export function dataTable(columns, rows, { onRow, rowClass, cls = "", sortable = false, initial } = {}) {
  let order = initial || null; // {index, dir}
  const tbody = h("tbody");
  const value = (c, r) => (c.sort ? c.sort(r) : r[c.key]);
  const heads = columns.map((c, i) => h("th", {
    scope: "col",
    class: [c.num ? "num" : "", c.opt ? "opt" : "", sortable ? "sortable" : ""].join(" ").trim() || null,
    onclick: sortable ? () => { order = { index: i, dir: order && order.index === i ? -order.dir : 1 }; fill(); } : null,
  }, c.label));
  function fill() {
    let list = rows;
    if (order) {
      const c = columns[order.index];
      list = [...rows].sort((a, b) => {
        const x = value(c, a), y = value(c, b);
        if (x === y) return 0;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (x < y ? -1 : 1) * order.dir;
      });
    }
    heads.forEach((th, i) => { th.dataset.sort = order && order.index === i ? (order.dir > 0 ? "asc" : "desc") : ""; });
    tbody.replaceChildren(...list.map((r) => h("tr", {
      class: rowClass ? rowClass(r) : null,
      tabindex: onRow ? "0" : null,
      onclick: onRow ? () => onRow(r) : null,
      onkeydown: onRow ? (e) => { if (e.key === "Enter") onRow(r); } : null,
    }, columns.map((c) => h("td", { class: [c.num ? "num" : "", c.opt ? "opt" : ""].join(" ").trim() || null },
      c.cell ? c.cell(r) : r[c.key] ?? "")))));
  }
  fill();
  return h("div", { class: "table-wrap" }, h("table", { class: `data ${cls}` }, h("thead", {}, h("tr", {}, heads)), tbody));
}

/** Labelled form field. */
export function field(label, input, cls) {
  return h("label", { class: cls || null }, label, input);
}

export function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

/** Save text as a file the browser downloads. */
export function download(name, text, type = "text/csv") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
