// Live circuit alerts: follow /api/v1/alerts/stream (Server-Sent Events) and refresh the
// alert list or a run's alerts in place when something happens — no reload needed.
// If the clinician is typing in a form on the page, only a notice is shown instead.
(function () {
  const root = document.querySelector("[data-alert-stream]");
  if (!root || !window.EventSource) return;
  const state = document.getElementById("live-state");
  let url = "/api/v1/alerts/stream?after=" + encodeURIComponent(root.dataset.cursor || "0");
  if (root.dataset.run) url += "&run_id=" + encodeURIComponent(root.dataset.run);
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
  source.addEventListener("ready", () => note("Live: new alerts appear without reloading."));
  source.onerror = () => note("Live updates paused — reconnecting…");
})();
