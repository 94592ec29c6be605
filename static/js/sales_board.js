// The deals board (templates/sales/board.html): drag a card to another stage, or pick the stage
// from the card's menu (phones, keyboards). Each move is saved at once through the server
// (sales.views.opportunity_move, JSON): the column totals update from its answer; a refused
// move puts the card back where it was and shows the reason. A move to a "lost" stage asks for
// the reason first. No inline script (CSP); delegated events, so cards loaded later work too.
(function () {
  "use strict";

  function csrfToken() {
    var body = document.body.getAttribute("hx-headers");
    try {
      return JSON.parse(body || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      var input = document.querySelector("input[name=csrfmiddlewaretoken]");
      return input ? input.value : "";
    }
  }

  function board() {
    return document.querySelector("[data-board]");
  }

  function showMessage(text) {
    var box = document.getElementById("board-message");
    if (!box) return;
    box.textContent = text;
    box.classList.toggle("d-none", !text);
  }

  function column(stageId) {
    return document.querySelector('[data-column][data-stage="' + stageId + '"]');
  }

  function placeCard(card, stageId, before) {
    var col = column(stageId);
    if (!col) return;
    var zone = col.querySelector("[data-dropzone]");
    var empty = zone.querySelector("[data-empty]");
    if (empty) empty.remove();
    if (before && before.parentNode === zone) {
      zone.insertBefore(card, before);
    } else {
      var more = zone.querySelector("[hx-get]");
      zone.insertBefore(card, more);
    }
    card.dataset.stage = stageId;
    var select = card.querySelector("select[name=stage]");
    if (select) select.value = stageId;
  }

  function updateTotals(columns) {
    Object.keys(columns).forEach(function (stageId) {
      var col = column(stageId);
      if (!col) return;
      var data = columns[stageId];
      col.querySelector("[data-count]").textContent = data.count;
      col.querySelector("[data-total]").textContent = data.total;
      col.querySelector("[data-weighted]").textContent = data.weighted;
    });
  }

  function askLossReason() {
    var dialog = document.getElementById("loss-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(null);
    var select = dialog.querySelector("[name=loss_reason]");
    var note = dialog.querySelector("[name=loss_note]");
    select.value = "";
    note.value = "";
    return new Promise(function (resolve) {
      dialog.addEventListener(
        "close",
        function () {
          if (dialog.returnValue === "confirm" && select.value) {
            resolve({ loss_reason: select.value, loss_note: note.value });
          } else {
            resolve(null);
          }
        },
        { once: true }
      );
      dialog.showModal();
    });
  }

  function move(card, stageId) {
    var fromStage = card.dataset.stage;
    if (String(fromStage) === String(stageId)) return;
    var origin = card.nextElementSibling;
    var target = column(stageId);
    var lost = target && target.dataset.kind === "lost";
    var extra = lost ? askLossReason() : Promise.resolve({});
    extra.then(function (fields) {
      if (fields === null) {
        placeCard(card, fromStage, origin);
        return;
      }
      placeCard(card, stageId);
      card.setAttribute("aria-busy", "true");
      var body = new URLSearchParams();
      body.set("stage", stageId);
      Object.keys(fields).forEach(function (k) {
        body.set(k, fields[k]);
      });
      fetch(card.dataset.moveUrl + window.location.search, {
        method: "POST",
        headers: {
          "X-CSRFToken": csrfToken(),
          Accept: "application/json",
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: body.toString(),
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.json().then(function (data) {
            return { ok: response.ok, data: data };
          });
        })
        .then(function (result) {
          card.removeAttribute("aria-busy");
          if (!result.ok) {
            placeCard(card, fromStage, origin);
            showMessage(result.data.error || "");
            return;
          }
          showMessage("");
          updateTotals(result.data.columns);
        })
        .catch(function () {
          card.removeAttribute("aria-busy");
          placeCard(card, fromStage, origin);
          showMessage(card.closest("[data-board]").dataset.offline || "Network error");
        });
    });
  }

  var dragged = null;

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("[data-card]");
    if (!card || card.getAttribute("draggable") !== "true") return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.pk);
    card.classList.add("opacity-50");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("opacity-50");
    dragged = null;
    document.querySelectorAll("[data-column].border-primary").forEach(function (c) {
      c.classList.remove("border-primary");
    });
  });

  document.addEventListener("dragover", function (event) {
    var col = dragged && event.target.closest && event.target.closest("[data-column]");
    if (!col) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    col.classList.add("border-primary");
  });

  document.addEventListener("dragleave", function (event) {
    var col = event.target.closest && event.target.closest("[data-column]");
    if (col && !col.contains(event.relatedTarget)) col.classList.remove("border-primary");
  });

  document.addEventListener("drop", function (event) {
    var col = dragged && event.target.closest && event.target.closest("[data-column]");
    if (!col) return;
    event.preventDefault();
    col.classList.remove("border-primary");
    move(dragged, col.dataset.stage);
  });

  // The card's stage menu (phones, keyboards): a change saves at once.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("[data-move-form] select[name=stage]")) return;
    if (!board()) return;
    var card = select.closest("[data-card]");
    var stageId = select.value;
    select.value = card.dataset.stage; // placeCard sets it once the move is under way
    move(card, stageId);
  });

  document.addEventListener("submit", function (event) {
    if (event.target.matches && event.target.matches("[data-move-form]")) {
      event.preventDefault();
    }
  });
})();
