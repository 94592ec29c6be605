// Small behaviours shared by every page. No page-specific scripts.
(function () {
  "use strict";

  // The company picker: a click on a suggestion fills the hidden id and the visible name.
  document.addEventListener("click", function (event) {
    var option = event.target.closest("[data-pick-value]");
    if (!option) return;
    event.preventDefault();
    var picker = option.closest("[data-picker]");
    picker.querySelector("input[type=hidden]").value = option.dataset.pickValue;
    picker.querySelector("input[type=search]").value = option.dataset.pickLabel;
    picker.querySelector("[data-picker-options]").innerHTML = "";
  });

  // A <select data-submit-on-change> submits its form when changed (no inline handlers: CSP).
  document.addEventListener("change", function (event) {
    var field = event.target.closest("[data-submit-on-change]");
    if (field && field.form) field.form.submit();
  });

  // "Select all" checkbox of a bulk-action list.
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) return;
    document.querySelectorAll("input[name=ids][form='" + all.dataset.selectAll + "']").forEach(function (box) {
      box.checked = all.checked;
    });
  });

  // Errors from HTMX requests that are not swapped (403, 404, 500) become a visible message.
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("htmx-error");
    if (!box) return;
    var status = event.detail.xhr.status;
    box.textContent = box.getAttribute("data-msg-" + status) || box.dataset.msgOther;
    box.classList.remove("d-none");
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("htmx-error");
    if (box) box.classList.add("d-none");
  });
})();
