// Rounds board: refresh the rows every 60 s without losing the reader's place: the page
// keeps its scroll position, and rows' open/closed details are restored after the swap.
(function () {
  const body = document.getElementById("board-rows");
  const stamp = document.getElementById("refreshed");
  if (!body) return;
  async function refresh() {
    const open = new Set([...body.querySelectorAll("details[open]")].map(d => d.dataset.key));
    const closed = new Set([...body.querySelectorAll("details:not([open])")].map(d => d.dataset.key));
    try {
      const r = await fetch(body.dataset.src, {headers: {"Accept": "text/html"}, credentials: "same-origin"});
      if (!r.ok) { stamp.textContent = "Refresh failed (" + r.status + "); showing older data."; return; }
      const y = window.scrollY;
      body.innerHTML = await r.text();
      body.querySelectorAll("details").forEach(d => {
        if (open.has(d.dataset.key)) d.open = true;
        else if (closed.has(d.dataset.key)) d.open = false;
      });
      window.scrollTo(0, y);
      stamp.textContent = "Updated " + new Date().toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}) + "; refreshes every 60 s.";
    } catch (e) { stamp.textContent = "Refresh failed; showing older data."; }
  }
  window.roundsBoardRefresh = refresh;
  setInterval(refresh, 60000);
})();
