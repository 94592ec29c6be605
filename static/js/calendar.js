// The calendar (templates/activities/calendar.html): drag a task to another day to move it.
// POSTs the day to the task's reschedule URL (JSON back: 200 moves the card, 422 puts it back and
// shows why). Days without JavaScript or on a phone: the day view's date picker form.
(function () {
  "use strict";

  var dragged = null;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function showError(message) {
    var box = document.getElementById("calendar-error");
    if (!box) return;
    box.textContent = message;
    box.classList.toggle("d-none", !message);
  }

  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest && event.target.closest("[data-reschedule-url]");
    if (!item) return;
    dragged = item;
    item.setAttribute("aria-grabbed", "true");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.rescheduleUrl);
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.setAttribute("aria-grabbed", "false");
    document.querySelectorAll("[data-day].bg-primary-subtle").forEach(function (cell) {
      cell.classList.remove("bg-primary-subtle");
    });
  });

  document.addEventListener("dragover", function (event) {
    var cell = event.target.closest && event.target.closest("[data-calendar] [data-day]");
    if (!cell || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    cell.classList.add("bg-primary-subtle");
  });

  document.addEventListener("dragleave", function (event) {
    var cell = event.target.closest && event.target.closest("[data-calendar] [data-day]");
    if (cell && !cell.contains(event.relatedTarget)) cell.classList.remove("bg-primary-subtle");
  });

  document.addEventListener("drop", function (event) {
    var cell = event.target.closest && event.target.closest("[data-calendar] [data-day]");
    if (!cell || !dragged) return;
    event.preventDefault();
    cell.classList.remove("bg-primary-subtle");
    var item = dragged;
    dragged = null;
    var origin = item.parentElement;
    var target = cell.querySelector("[data-day-items]");
    if (!target || origin === target) return;
    target.appendChild(item); // at once; put back if the server says no
    var body = new FormData();
    body.append("date", cell.dataset.day);
    fetch(item.dataset.rescheduleUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (result) {
        if (!result.ok) throw new Error(result.data.error || "");
        showError("");
        cell.classList.remove("d-none");
      })
      .catch(function (error) {
        origin.appendChild(item);
        showError(error.message || document.getElementById("htmx-error").dataset.msgOther);
      });
  });
})();
