// The knowledge-base panel on the ticket page (templates/kb/partials/ticket_panel.html):
// "Insert link" and "Insert text" put an article into the reply composer at the cursor. The
// composer is the page's [data-reply-composer] textarea (or the reply form's `body`). Delegated
// events, so results loaded later by htmx work too; no inline script (CSP).
(function () {
  "use strict";
  if (window.kbPanelReady) return;
  window.kbPanelReady = true;

  function composer() {
    return (
      document.querySelector("textarea[data-reply-composer]") ||
      document.querySelector("form[data-reply-form] textarea[name=body]") ||
      document.querySelector("textarea[name=body]")
    );
  }

  function say(panel, key) {
    var message = panel && panel.querySelector("[data-kb-panel-message]");
    if (!message) return;
    message.textContent = message.getAttribute("data-" + key) || "";
    message.classList.remove("d-none");
  }

  function insert(textarea, text) {
    var start = textarea.selectionStart == null ? textarea.value.length : textarea.selectionStart;
    var end = textarea.selectionEnd == null ? start : textarea.selectionEnd;
    var before = textarea.value.slice(0, start);
    var after = textarea.value.slice(end);
    var pad = before && !/\s$/.test(before) ? "\n" : "";
    textarea.value = before + pad + text + after;
    var caret = (before + pad + text).length;
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-kb-insert]");
    if (!button) return;
    var panel = button.closest("[data-kb-panel]");
    var textarea = composer();
    if (!textarea) {
      say(panel, "no-composer");
      return;
    }
    var text =
      button.getAttribute("data-kb-insert") === "link"
        ? button.getAttribute("data-title") + ": " + button.getAttribute("data-url")
        : button.getAttribute("data-text");
    insert(textarea, text + "\n");
    say(panel, "inserted");
  });
})();
