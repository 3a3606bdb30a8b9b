// Trend chart of a run's key signals, from the JSON API; one panel per signal.
(function () {
  const el = document.getElementById("trend");
  if (!el || !window.Plotly) return;
  const codes = el.dataset.codes.split(",");
  const url = `/api/v1/runs/${el.dataset.run}/observations?` + codes.map(c => "code=" + c).join("&") +
    "&since=" + encodeURIComponent(el.dataset.since);
  fetch(url, { credentials: "same-origin" }).then(r => r.json()).then(data => {
    let last = null;
    for (const c of codes) for (const p of data[c] || []) if (!last || p[0] > last) last = p[0];
    if (!last) return;
    const since = new Date(new Date(last).getTime() - 24 * 3600 * 1000).toISOString();
    const traces = codes.map((c, i) => {
      const pts = (data[c] || []).filter(p => p[0] >= since);
      return { x: pts.map(p => p[0]), y: pts.map(p => p[1]), name: c, mode: "lines",
               line: { width: 1.5 }, xaxis: "x", yaxis: "y" + (i ? i + 1 : "") };
    });
    const layout = { grid: { rows: codes.length, columns: 1, pattern: "coupled" },
      height: 110 * codes.length + 60, margin: { l: 60, r: 10, t: 10, b: 30 },
      showlegend: false };
    codes.forEach((c, i) => { layout["yaxis" + (i ? i + 1 : "")] = { title: { text: c, font: { size: 11 } } }; });
    el.style.height = layout.height + "px";
    Plotly.newPlot(el, traces, layout, { displaylogo: false, responsive: true });
  });
})();
