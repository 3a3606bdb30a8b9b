// Small page behaviours without inline handlers (the CSP allows no inline script):
// [data-print] buttons print the page, [data-back] links go back in the history, and the
// error summary's links ([data-field]) lead to the field they name in the refused form.
document.addEventListener("click", function (event) {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  if (target.closest("[data-print]")) { event.preventDefault(); window.print(); return; }
  if (target.closest("[data-back]") && window.history.length > 1) { event.preventDefault(); window.history.back(); return; }
  const link = target.closest("a[data-field]");
  if (link) {
    const field = fieldFor(link.getAttribute("data-field") || "");
    if (field) {
      event.preventDefault();
      field.scrollIntoView({ block: "center" });
      field.focus({ preventScroll: true });
    }
  }
});

// The input a problem names: inside the form after the refused form's message first, then
// anywhere on the page; for a problem about a value (e.g. "hb"), the form's value input.
function fieldFor(name) {
  const box = document.getElementById("form-error");
  const selector = "[name=\"" + CSS.escape(name) + "\"]";
  const all = Array.from(document.querySelectorAll(selector + ", [name=\"value\"]"));
  const after = box ? all.filter(function (el) {
    return box.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING;
  }) : all;
  const byName = function (list) { return list.find(function (el) { return el.matches(selector); }); };
  return byName(after) || byName(all) || document.getElementById("f-" + name) || after[0] || null;
}

// [data-fold-narrow] details (the run page's links) start folded on a phone-sized screen.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.matchMedia("(max-width: 600px)").matches) return;
  document.querySelectorAll("details[data-fold-narrow]").forEach(function (el) { el.removeAttribute("open"); });
});
