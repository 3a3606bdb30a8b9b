// Live circuit alerts: follow /api/v1/alerts/stream (Server-Sent Events) and refresh the
// alert list or a run's alerts in place when something happens — no reload needed.
// If the clinician is typing in a form on the page, only a notice is shown instead.
// Without data-cursor (e.g. the core run page) the stream starts at the newest event; a
// container rendered hidden while empty is shown once the fresh page has content for it.
(function () {
  const root = document.querySelector("[data-alert-stream]");
  if (!root || !window.EventSource) return;
  const state = document.getElementById("live-state");
  const query = new URLSearchParams();
  if (root.dataset.cursor) query.set("after", root.dataset.cursor);
  if (root.dataset.run) query.set("run_id", root.dataset.run);
  const url = "/api/v1/alerts/stream?" + query.toString();
  const source = new EventSource(url);
  let busy = false, again = false;

  function typing() {
    return Array.from(root.querySelectorAll("input:not([type=hidden]), textarea"))
      .some(el => el.value || el === document.activeElement);
  }

  async function refresh() {
    if (busy) { again = true; return; }
    if (typing()) { note("New alert activity — reload the page to see it."); return; }
    busy = true;
    try {
      const r = await fetch(location.href, { credentials: "same-origin" });
      const doc = new DOMParser().parseFromString(await r.text(), "text/html");
      const fresh = doc.getElementById(root.id);
      if (fresh) {
        root.innerHTML = fresh.innerHTML;
        root.hidden = fresh.hidden;
        root.dispatchEvent(new CustomEvent("alerts:updated", { bubbles: true }));
        note("Updated " + new Date().toLocaleTimeString());
      }
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  function note(text) { if (state) state.textContent = text; }

  source.addEventListener("alert", refresh);
  source.addEventListener("ready", () => {
    root.dataset.live = "ready";
    note("Live: new alerts appear without reloading.");
  });
  source.onerror = () => note("Live updates paused — reconnecting…");
})();
