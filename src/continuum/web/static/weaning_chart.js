// Weaning: Plotly chart of the signals that mattered across trials. Each chart is a
// <div class="chart"> followed by its data (<script type="application/json">) and then
// this script, which draws the chart just before it.
(function () {
  const dataEl = document.currentScript && document.currentScript.previousElementSibling;
  const el = dataEl && dataEl.previousElementSibling;
  if (!dataEl || !el) return;
  const data = JSON.parse(dataEl.textContent);
  const codes = Object.keys(data.series);
  if (!window.Plotly || !codes.length) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = "No flow, sweep, saturation, PaCO2 or MAP values recorded across the trials.";
    el.replaceChildren(p);
    return;
  }
  const traces = codes.map((c, i) => ({ x: data.series[c].map(p => p[0]), y: data.series[c].map(p => p[1]),
    name: c, mode: "lines+markers", marker: { size: 4 }, line: { width: 1.5 }, xaxis: "x", yaxis: "y" + (i ? i + 1 : "") }));
  const colours = { passed: "rgba(40,160,70,0.12)", failed: "rgba(200,40,40,0.12)", aborted: "rgba(200,40,40,0.12)", in_progress: "rgba(230,170,0,0.15)" };
  const shapes = data.bands.map(b => ({ type: "rect", xref: "x", yref: "paper", x0: b.start, x1: b.end, y0: 0, y1: 1,
    fillcolor: colours[b.status] || "rgba(0,0,0,0.06)", line: { width: 0 } }));
  const annotations = data.bands.map(b => ({ x: b.start, y: 1, xref: "x", yref: "paper", text: b.label, showarrow: false,
    xanchor: "left", yanchor: "bottom", font: { size: 11 } }));
  for (const b of data.bands) for (const s of b.steps) shapes.push({ type: "line", xref: "x", yref: "paper", x0: s[0], x1: s[0], y0: 0, y1: 1, line: { width: 1, dash: "dot", color: "#888" } });
  const layout = { grid: { rows: codes.length, columns: 1, pattern: "coupled" }, height: 110 * codes.length + 80,
    margin: { l: 60, r: 10, t: 30, b: 30 }, showlegend: false, shapes, annotations };
  codes.forEach((c, i) => { layout["yaxis" + (i ? i + 1 : "")] = { title: { text: c, font: { size: 11 } } }; });
  el.style.height = layout.height + "px";
  Plotly.newPlot(el, traces, layout, { displaylogo: false, responsive: true });
})();
