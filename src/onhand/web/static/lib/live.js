// The tenant's live events (Server-Sent Events), fanned out to the views that listen.

const EVENT_NAMES = ["stock.changed", "stock.low", "stock.out", "stock.back_in", "availability",
  "reservation.created", "reservation.committed", "reservation.released", "reservation.expired",
  "reservation.extended", "reservation.shipped",
  "backorder.created", "backorder.allocated", "backorder.eta_changed", "backorder.cancelled",
  "wave.created", "wave.shipped", "pick.confirmed",
  "rma.requested", "rma.approved", "rma.refused", "rma.received", "rma.inspected",
  "lot.expiring", "lot.expired", "inventory.recall.initiated"];

export function makeLive(tenant, token, setStatus) {
  const handlers = new Set();
  let source = null;
  let retry = 5;
  let timer = null;
  const url = `/v1/${encodeURIComponent(tenant)}/events?access_token=${encodeURIComponent(token)}`;

  function deliver(message) {
    let data;
    try { data = JSON.parse(message.data); } catch { return; }
    if (!data || typeof data !== "object") return;
    if (!data.type) data.type = message.type;
    for (const handler of [...handlers]) {
      try { handler(data); } catch (err) { console.error("a live-event handler failed", err); }
    }
  }

  async function diagnose() {
    // EventSource hides the status code; ask once with fetch to say what went wrong.
    let status = 0;
    const controller = new AbortController();
    try {
      status = (await fetch(url, { signal: controller.signal, headers: { Accept: "text/event-stream" } })).status;
    } catch { /* unreachable: status stays 0 */ }
    controller.abort();
    const wait = retry;
    retry = Math.min(retry * 2, 120);
    setStatus("off", status === 401 || status === 403 ? `Live feed refused (${status})` : "Live feed lost",
      `Reconnecting in ${wait} s.`);
    timer = setTimeout(connect, wait * 1000);
  }

  function connect() {
    clearTimeout(timer);
    if (source) source.close();
    if (!window.EventSource) return setStatus("off", "No live feed", "This browser lacks EventSource.");
    setStatus("connecting", "Connecting…");
    source = new EventSource(url);
    source.onopen = () => { retry = 5; setStatus("on", "Live", "Figures update as stock changes."); };
    source.onmessage = deliver;
    for (const name of EVENT_NAMES) source.addEventListener(name, deliver);
    source.onerror = () => {
      if (source.readyState === EventSource.CONNECTING) return setStatus("connecting", "Reconnecting…");
      source.close();
      diagnose();
    };
  }

  return {
    connect,
    close() { clearTimeout(timer); if (source) source.close(); source = null; handlers.clear(); },
    /** Subscribe; returns the unsubscribe function. */
    on(handler) { handlers.add(handler); return () => handlers.delete(handler); },
  };
}
