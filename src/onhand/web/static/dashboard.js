// onhand admin console: the shell. Static ES modules, no build step, nothing from elsewhere.
// It signs in, draws the navigation from views/index.js, maps /dashboard/<view>?… to a view
// module and hands each view the `ctx` of the console view contract (docs/dashboard.md).

import { makeApi } from "./lib/api.js";
import { $, h } from "./lib/dom.js";
import { makeLive } from "./lib/live.js";
import { views } from "./views/index.js";

const STORE = { token: "onhand.token", tenant: "onhand.tenant" };
const BASE = "/dashboard";

const shell = {
  api: null,
  live: null,
  tenant: "",
  cleanup: null,      // what the current view returned from render()
  unsubscribe: [],    // the current view's event subscriptions
  rendering: 0,       // sequence number: a slow view never replaces a newer one
};

// ---- signing in ---------------------------------------------------------------------------

/** `#token=…&tenant=…` signs in (the link `onhand demo` prints); removed from the address at once. */
function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.get("token")) return false;
  localStorage.setItem(STORE.token, params.get("token"));
  localStorage.setItem(STORE.tenant, params.get("tenant") || "demo");
  history.replaceState(history.state, "", location.pathname + location.search);
  return true;
}

function showSignIn(message) {
  stopView();
  if (shell.live) shell.live.close();
  shell.live = null;
  for (const id of ["app", "nav", "sign-out", "live-status", "tenant-name"]) $(`#${id}`).hidden = true;
  $("#sign-in").hidden = false;
  const form = $("#sign-in-form");
  form.tenant.value = localStorage.getItem(STORE.tenant) || "demo";
  const error = $("#sign-in-error");
  error.hidden = !message;
  error.textContent = message || "";
  form.token.focus();
}

async function start() {
  const token = localStorage.getItem(STORE.token) || "";
  const tenant = localStorage.getItem(STORE.tenant) || "demo";
  if (!token) return showSignIn();
  const api = makeApi(tenant, token);
  try {
    await api.get("/settings");
  } catch (err) {
    const why = err.status === 401 ? "This token is unknown or revoked."
      : err.status === 403 ? `This token may not manage tenant “${tenant}” (it needs the admin scope of that tenant).`
        : err.message;
    return showSignIn(why);
  }
  if (shell.live) shell.live.close();
  shell.api = api;
  shell.tenant = tenant;
  shell.live = makeLive(tenant, token, setLive);
  $("#sign-in").hidden = true;
  for (const id of ["app", "nav", "sign-out", "live-status", "tenant-name"]) $(`#${id}`).hidden = false;
  $("#tenant-name").textContent = tenant;
  drawNav();
  shell.live.connect();
  await show();
}

function signOut() {
  localStorage.removeItem(STORE.token);
  showSignIn();
}

function setLive(state, text, note = "") {
  const el = $("#live-status");
  el.dataset.state = state;
  el.title = note;
  $(".text", el).textContent = text;
}

// ---- navigation -----------------------------------------------------------------------------

function currentView() {
  const name = location.pathname.slice(BASE.length).replace(/^\/+|\/+$/g, "");
  return name || views[0].name;
}

function drawNav() {
  const active = currentView();
  const link = (v) => h("a", {
    href: `${BASE}/${v.name}`,
    class: v.name === active ? "active" : null,
    "aria-current": v.name === active ? "page" : null,
    dataset: { view: v.name },
    onclick: (e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      navigate(v.name);
    },
  }, v.title);
  const more = views.filter((v) => v.more);
  const current = more.find((v) => v.name === active);
  // The rest sit in a menu; its button names the view shown when it is one of them.
  const menu = more.length ? h("details", { class: `more${current ? " active" : ""}` },
    h("summary", { "aria-label": "More views" }, current ? current.title : "More"),
    h("div", { class: "more-menu" }, more.map(link))) : null;
  $("#nav").replaceChildren(...views.filter((v) => !v.more).map(link), menu || []);
}

// A click anywhere but in the open "More" menu closes it; so does Escape.
document.addEventListener("click", (e) => {
  const open = $("#nav details.more[open]");
  if (open && !open.contains(e.target)) open.open = false;
});
document.addEventListener("keydown", (e) => {
  const open = $("#nav details.more[open]");
  if (open && e.key === "Escape") { open.open = false; open.querySelector("summary").focus(); }
});

function navigate(view, params) {
  const search = params ? new URLSearchParams(params).toString() : "";
  const url = `${BASE}/${view}${search ? `?${search}` : ""}`;
  if (url !== location.pathname + location.search) history.pushState(null, "", url);
  show();
}

/** Update the address without re-rendering (a view keeping its filters in the deep link). */
function setParams(params) {
  const search = new URLSearchParams(params).toString();
  history.replaceState(history.state, "", `${location.pathname}${search ? `?${search}` : ""}`);
}

function stopView() {
  for (const off of shell.unsubscribe) off();
  shell.unsubscribe = [];
  if (typeof shell.cleanup === "function") {
    try { shell.cleanup(); } catch (err) { console.error("a view's cleanup failed", err); }
  }
  shell.cleanup = null;
}

async function show() {
  const seq = ++shell.rendering;
  stopView();
  drawNav();
  const name = currentView();
  const entry = views.find((v) => v.name === name);
  const root = h("div", { class: "view-root", dataset: { view: name } });
  $("#view").replaceChildren(root);
  if (!entry) {
    root.append(h("div", { class: "empty tall" }, h("strong", {}, `There is no view “${name}”`),
      h("a", { href: BASE }, "Go to the first view")));
    return;
  }
  document.title = `${entry.title} · onhand`;
  const subscriptions = [];
  const ctx = {
    api: shell.api,
    tenant: shell.tenant,
    params: new URLSearchParams(location.search),
    navigate,
    setParams,
    onEvent(handler) {
      const off = shell.live.on(handler);
      subscriptions.push(off);
      return off;
    },
  };
  try {
    const module = await import(`./views/${name}.js`);
    if (seq !== shell.rendering) return;
    root.dataset.state = "loading";
    const cleanup = await module.render(root, ctx);
    if (seq !== shell.rendering) {
      for (const off of subscriptions) off();
      if (typeof cleanup === "function") cleanup();
      return;
    }
    shell.cleanup = cleanup;
    shell.unsubscribe = subscriptions;
    root.dataset.state = "ready";
  } catch (err) {
    for (const off of subscriptions) off();
    if (seq !== shell.rendering) return;
    console.error(err);
    root.replaceChildren(h("div", { class: "empty tall" },
      h("strong", {}, "This view could not be shown"), h("span", {}, err.message)));
    root.dataset.state = "failed";
  }
}

// ---- wiring ---------------------------------------------------------------------------------

$("#sign-in-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const form = e.target;
  localStorage.setItem(STORE.token, form.token.value.trim());
  localStorage.setItem(STORE.tenant, form.tenant.value.trim());
  form.token.value = "";
  start();
});
$("#sign-out").addEventListener("click", signOut);
window.addEventListener("popstate", () => { if (shell.api) show(); });
// A sign-in link opened in a tab already showing the console only changes the fragment.
window.addEventListener("hashchange", () => { if (readFragment()) start(); });
// Signing in or out in another tab of this browser.
window.addEventListener("storage", (e) => {
  if (e.key === STORE.token || e.key === STORE.tenant) start();
});
readFragment();
start();
