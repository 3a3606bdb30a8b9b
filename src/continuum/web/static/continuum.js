// Small page behaviours without inline handlers (the CSP allows no inline script):
// [data-print] buttons print the page, [data-back] links go back in the history.
document.addEventListener("click", function (event) {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  if (target.closest("[data-print]")) { event.preventDefault(); window.print(); return; }
  if (target.closest("[data-back]") && window.history.length > 1) { event.preventDefault(); window.history.back(); }
});
