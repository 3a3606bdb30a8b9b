// The signals behind each alert, around its time: one panel per signal, a red line where
// the alert was raised and a green one where it cleared. Data sit in the page as JSON.
(function () {
  function draw() {
    if (!window.Plotly) return;
    document.querySelectorAll(".alert-chart").forEach(el => {
      const src = document.getElementById(el.id.replace("chart-", "chart-data-"));
      if (!src || el.dataset.drawn) return;
      const data = JSON.parse(src.textContent);
      const n = data.panels.length;
      if (!n) { el.textContent = "No signal data stored for this alert."; return; }
      const traces = data.panels.map((p, i) => ({ x: p.t, y: p.v, name: p.label, mode: "lines",
        line: { width: 1.5 }, xaxis: "x", yaxis: "y" + (i ? i + 1 : "") }));
      const marks = [[data.raised_at, "#b3261e"], [data.cleared_at, "#1f7a3d"]].filter(m => m[0]);
      const layout = { grid: { rows: n, columns: 1, pattern: "coupled" }, showlegend: false,
        height: 100 * n + 60, margin: { l: 60, r: 10, t: 10, b: 30 },
        shapes: marks.map(([x, c]) => ({ type: "line", xref: "x", yref: "paper", x0: x, x1: x,
          y0: 0, y1: 1, line: { color: c, width: 2, dash: "dot" } })) };
      data.panels.forEach((p, i) => {
        layout["yaxis" + (i ? i + 1 : "")] = { title: { text: p.code, font: { size: 11 } } };
      });
      el.style.height = layout.height + "px";
      el.dataset.drawn = "1";
      Plotly.newPlot(el, traces, layout, { displaylogo: false, responsive: true });
    });
  }
  draw();
  document.addEventListener("alerts:updated", draw);
})();
