/*
 * onhand stock badge. Embed it where a product's stock should show:
 *
 *   <script src="https://stock.example.com/badge.js" data-tenant="demo"
 *           data-sku="BOOK-DUNE" data-token="onh_…" async></script>
 *
 * It shows "In stock", "Only N left" or "Sold out" and follows the public availability
 * stream (/v1/{tenant}/public/availability/stream), so the figure changes as stock does.
 * "Only N left" starts at the item's own low-stock threshold. Optional attributes:
 *   data-low="5"         override the threshold (without either: 5)
 *   data-target="#stock" put the badge into this element instead of after the script
 * Use a token with only the public scope: it is visible to anyone who views the page.
 * A shop page on another origin needs that origin in the server's ONHAND_CORS_ORIGINS
 * (`onhand demo --cors-origin https://shop.example`); when the browser blocks the stream
 * the badge says so in the browser console.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var base = script.src.replace(/\/badge\.js(?:[?#].*)?$/, "");
  var tenant = script.getAttribute("data-tenant");
  var sku = script.getAttribute("data-sku");
  var token = script.getAttribute("data-token");
  var override = script.getAttribute("data-low");
  var low = override === null ? null : parseInt(override, 10);
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
    var threshold = low === null || isNaN(low) ? 5 : low;
    if (available === null || available === undefined) {
      level = "in"; text = "In stock";            // digital: never runs out
    } else if (available <= 0) {
      level = "out"; text = "Sold out";
    } else if (available <= threshold) {
      level = "low"; text = "Only " + available + " left";
    } else {
      level = "in"; text = "In stock";
    }
    badge.setAttribute("data-level", level);
    badge.setAttribute("data-available", available === null ? "" : String(available));
    badge.textContent = text;
  }

  var url = base + "/v1/" + encodeURIComponent(tenant) + "/public/availability/stream?skus=" +
    encodeURIComponent(sku) + "&access_token=" + encodeURIComponent(token);
  var source = null;
  var retry = 5;
  var warned = false;

  function explain() {
    // EventSource hides why it failed; one fetch tells a CORS refusal from a server answer.
    fetch(url, { headers: { Accept: "text/event-stream" } }).then(function (res) {
      if (res.body && res.body.cancel) res.body.cancel();
      if (!res.ok && window.console) {
        console.warn("onhand badge: the stock stream answered " + res.status + " for " + sku +
          " (check data-tenant, data-sku and that the token has the public scope)");
      }
    }, function () {
      if (warned || !window.console) return;
      warned = true;
      console.error("onhand badge: the browser blocked the stock stream from " + base +
        " (CORS). Add " + location.origin + " to ONHAND_CORS_ORIGINS on the onhand server" +
        " (onhand demo --cors-origin " + location.origin + ").");
    });
  }

  function connect() {
    if (!window.EventSource) return;
    source = new EventSource(url);
    source.addEventListener("availability", function (message) {
      var data;
      try { data = JSON.parse(message.data); } catch (e) { return; }
      if (!data || data.sku !== sku) return;
      retry = 5;
      if (override === null && data.low_stock_threshold !== undefined) {
        low = data.low_stock_threshold === null ? null : data.low_stock_threshold;
      }
      show(data.available);
    });
    source.onerror = function () {
      if (source.readyState !== EventSource.CLOSED) return;  // the browser reconnects itself
      explain();
      setTimeout(connect, retry * 1000);
      retry = Math.min(retry * 2, 300);
    };
  }
  connect();
})();
