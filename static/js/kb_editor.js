// The knowledge-base editor (templates/kb/staff/article_form.html): uploading an image sends it
// to the server (kb.staff.image_upload), which checks it and answers its Markdown; the Markdown
// goes in at the body's cursor and the live preview (an htmx POST on input) refreshes.
// No inline script (CSP).
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart || 0;
    var end = textarea.selectionEnd || 0;
    var before = textarea.value.slice(0, start);
    var after = textarea.value.slice(end);
    var pad = before && !before.endsWith("\n") ? "\n" : "";
    textarea.value = before + pad + text + "\n" + after;
    var caret = (before + pad + text + "\n").length;
    textarea.setSelectionRange(caret, caret);
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    var box = input.closest && input.closest("[data-kb-image-upload]");
    if (!box || !input.files || !input.files.length) return;
    var status = box.querySelector("[data-kb-image-status]");
    var textarea = document.getElementById(box.getAttribute("data-target"));
    var data = new FormData();
    data.append("image", input.files[0]);
    status.textContent = "…";
    fetch(box.getAttribute("data-url"), {
      method: "POST",
      body: data,
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          status.textContent = result.body.error || "";
          status.classList.add("text-danger");
          return;
        }
        status.classList.remove("text-danger");
        status.textContent = result.body.url;
        insertAtCursor(textarea, result.body.markdown);
        input.value = "";
      })
      .catch(function () {
        status.textContent = box.getAttribute("data-error") || "";
      });
  });
})();
