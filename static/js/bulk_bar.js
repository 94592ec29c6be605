// The list kit's bulk bar (templates/components/bulk_bar.html): only the chosen action's
// options show. Without this script every option shows and the server reads only the chosen
// action's. The bar's <select name=action data-bulk-fields> names each action's option fields;
// their wrappers (children of [data-bulk-options]) get Bootstrap's d-none. Loaded by every bar
// (also after an HTMX swap): the listeners are added once.
(function () {
  "use strict";
  if (window.crmBulkBar) return;
  window.crmBulkBar = true;

  function wrapperOf(control, box) {
    var node = control;
    while (node && node.parentElement !== box) node = node.parentElement;
    return node;
  }

  function show(select) {
    var box = select.closest("[data-bulk-options]");
    var fields;
    try {
      fields = JSON.parse(select.dataset.bulkFields || "{}");
    } catch (error) {
      return;
    }
    var chosen = fields[select.value] || [];
    Object.keys(fields).forEach(function (action) {
      fields[action].forEach(function (name) {
        box.querySelectorAll("[name='" + name + "']").forEach(function (control) {
          var wrapper = wrapperOf(control, box);
          if (wrapper) wrapper.classList.toggle("d-none", chosen.indexOf(name) < 0);
        });
      });
    });
  }

  function showAll(root) {
    (root || document).querySelectorAll("select[data-bulk-fields]").forEach(show);
  }

  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-bulk-fields]");
    if (select) show(select);
  });
  document.addEventListener("htmx:load", function (event) {
    showAll(event.target);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { showAll(); });
  } else {
    showAll();
  }
})();
