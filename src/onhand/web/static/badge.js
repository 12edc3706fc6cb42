/*
 * onhand stock badge. Embed it where a product's stock should show:
 *
 *   <script src="https://stock.example.com/badge.js" data-tenant="demo"
 *           data-sku="BOOK-DUNE" data-token="onh_…" async></script>
 *
 * It shows "In stock", "Only N left" or "Sold out" from /v1/{tenant}/availability/{sku},
 * and refreshes every minute while the page is visible. Optional attributes:
 *   data-low="5"         show "Only N left" at or below this many (default 5)
 *   data-refresh="60"    seconds between refreshes (default 60, at least 10)
 *   data-target="#stock" put the badge into this element instead of after the script
 * Use a token with only the storefront scope: it is visible to anyone who views the page.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var base = script.src.replace(/\/badge\.js(?:[?#].*)?$/, "");
  var tenant = script.getAttribute("data-tenant");
  var sku = script.getAttribute("data-sku");
  var token = script.getAttribute("data-token");
  var low = parseInt(script.getAttribute("data-low") || "5", 10);
  var every = Math.max(10, parseInt(script.getAttribute("data-refresh") || "60", 10)) * 1000;
  if (!tenant || !sku || !token) {
    if (window.console) console.warn("onhand badge: data-tenant, data-sku and data-token are required");
    return;
  }

  var STYLE_ID = "onhand-badge-style";
  if (!document.getElementById(STYLE_ID)) {
    var style = document.createElement("style");
    style.id = STYLE_ID;
    style.textContent =
      ".onhand-badge{display:inline-flex;align-items:center;gap:.45em;padding:.2em .75em;" +
      "border-radius:999px;font:600 13px/1.6 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;" +
      "background:#ebfbee;color:#2b8a3e;white-space:nowrap}" +
      ".onhand-badge::before{content:'';width:.55em;height:.55em;border-radius:50%;background:currentColor}" +
      ".onhand-badge[data-level=low]{background:#fff4e6;color:#b35c00}" +
      ".onhand-badge[data-level=out]{background:#f1f3f5;color:#868e96}" +
      ".onhand-badge[data-level=loading]{visibility:hidden}";
    document.head.appendChild(style);
  }

  var badge = document.createElement("span");
  badge.className = "onhand-badge";
  badge.setAttribute("data-level", "loading");
  badge.setAttribute("role", "status");
  badge.setAttribute("aria-live", "polite");
  badge.textContent = "…";
  var target = script.getAttribute("data-target");
  var host = target && document.querySelector(target);
  if (host) host.appendChild(badge);
  else script.parentNode.insertBefore(badge, script.nextSibling);

  function show(available) {
    var level, text;
    if (available === null || available === undefined) {
      level = "in"; text = "In stock";            // digital: never runs out
    } else if (available <= 0) {
      level = "out"; text = "Sold out";
    } else if (available <= low) {
      level = "low"; text = "Only " + available + " left";
    } else {
      level = "in"; text = "In stock";
    }
    badge.setAttribute("data-level", level);
    badge.textContent = text;
  }

  var timer = null;
  function refresh() {
    var url = base + "/v1/" + encodeURIComponent(tenant) + "/availability/" + encodeURIComponent(sku);
    fetch(url, { headers: { Authorization: "Bearer " + token, Accept: "application/json" } })
      .then(function (res) { return res.ok ? res.json() : Promise.reject(res.status); })
      .then(function (doc) { show(doc.available); })
      .catch(function () { /* keep what is shown; try again at the next refresh */ })
      .then(schedule);
  }
  function schedule() {
    clearTimeout(timer);
    if (!document.hidden) timer = setTimeout(refresh, every);
  }
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) clearTimeout(timer);
    else refresh();
  });
  refresh();
})();
