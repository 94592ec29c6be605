// The deals board (templates/sales/board.html): drag a card to another stage, or pick the stage
// from the card's menu (phones, keyboards). Each move is saved at once through the server
// (sales.views.opportunity_move, JSON): the column totals update from its answer and the card
// is swapped for the one it renders (days in the new stage, no stalled badge); a refused
// move puts the card back where it was and shows the reason. A move to a "lost" stage asks for
// the reason first, to a "won" stage too when won reasons are defined; a move the stage refuses
// for want of an amount, a next step, a company or contacts asks for them in a dialog and tries
// again with them (saved by the same service call); a refused value reopens the dialog with the
// reason, and a cancelled dialog puts the card back. No
// inline script (CSP); delegated events, so cards loaded later work too.
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

  // The moved card as the server renders it now (sales.views._card_html, the board's own card
  // template): its days in the new stage, no stalled badge, the amount the dialog may have
  // filled in, its stage menu. Focus stays on the stage menu when the move came from it.
  function swapCard(card, html) {
    if (!html || !card.parentNode) return;
    var holder = document.createElement("template");
    holder.innerHTML = html;
    var fresh = holder.content.querySelector("[data-card]");
    if (!fresh) return;
    var select = card.querySelector("select[name=stage]");
    var focused = select !== null && document.activeElement === select;
    card.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    if (focused) {
      var again = fresh.querySelector("select[name=stage]");
      if (again) again.focus();
    }
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

  // A won stage asks why while the administrators keep a list of won reasons (the dialog is
  // on the page only then): resolves with the reason, {} with no list, null when cancelled.
  function askWonReason() {
    var dialog = document.getElementById("won-dialog");
    if (!dialog) return Promise.resolve({});
    if (typeof dialog.showModal !== "function") return Promise.resolve(null);
    var select = dialog.querySelector("[name=won_reason]");
    select.value = "";
    return new Promise(function (resolve) {
      dialog.addEventListener(
        "close",
        function () {
          if (dialog.returnValue === "confirm" && select.value) {
            resolve({ won_reason: select.value });
          } else {
            resolve(null);
          }
        },
        { once: true }
      );
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  // The stage's required fields the server asked for (amount, next step, company, contacts
  // with a role): a dialog with just those, the company and contact picked from suggestions
  // of records the user may see (the contact's from the deal's own lookup). `keep` reopens it
  // with the values given and the server's reason for refusing one. Resolves with the values
  // (the hidden ids, not the typed search), or null when cancelled.
  // The contact rows of the dialog: each row's search asks the deal's own lookup.
  function pointLookup(lookup) {
    var dialog = lookup.closest("dialog");
    var url = lookup.dataset.prefix + dialog.dataset.cardPk + lookup.dataset.suffix;
    lookup.setAttribute("hx-get", url);
    if (window.htmx) window.htmx.process(lookup);
  }

  function updateContactRows(dialog) {
    var rows = dialog.querySelectorAll("[data-contact-row]");
    var add = dialog.querySelector("[data-add-contact]");
    if (add) add.hidden = rows.length >= Number(add.dataset.max || 20);
    rows.forEach(function (row, i) {
      row.querySelector("[data-remove-contact]").hidden = i === 0;
    });
  }

  var contactRowSeq = 0;

  // "Add another contact": a copy of the first row, empty, with its own ids for its labels.
  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-contact]");
    var remove = event.target.closest("[data-remove-contact]");
    if (!add && !remove) return;
    var dialog = event.target.closest("dialog");
    if (remove) {
      remove.closest("[data-contact-row]").remove();
      updateContactRows(dialog);
      return;
    }
    var rows = dialog.querySelector("[data-contact-rows]");
    var row = rows.querySelector("[data-contact-row]").cloneNode(true);
    contactRowSeq += 1;
    row.querySelectorAll("[id]").forEach(function (el) {
      var label = row.querySelector('label[for="' + el.id + '"]');
      el.id = el.id + "-" + contactRowSeq;
      if (label) label.htmlFor = el.id;
    });
    row.querySelectorAll("input").forEach(function (input) {
      input.value = "";
      input.removeAttribute("hx-get");
    });
    row.querySelectorAll("select").forEach(function (select) {
      select.selectedIndex = 0;
    });
    row.querySelectorAll("[data-picker-options]").forEach(function (options) {
      options.innerHTML = "";
    });
    rows.appendChild(row);
    row.querySelectorAll("[data-contact-lookup]").forEach(pointLookup);
    updateContactRows(dialog);
    row.querySelector("input[type=search]").focus();
  });

  function askFields(ask, reason, card, keep) {
    var dialog = document.getElementById("fields-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(null);
    dialog.querySelector("[data-reason]").textContent = reason;
    var wantedBoxes = [];
    if (!keep) {
      dialog.querySelectorAll("[data-contact-row]").forEach(function (row, i) {
        if (i > 0) row.remove();
      });
      updateContactRows(dialog);
    }
    dialog.querySelectorAll("[data-ask]").forEach(function (box) {
      var wanted = ask.indexOf(box.dataset.ask) !== -1;
      box.classList.toggle("d-none", !wanted);
      box.querySelectorAll("input, select").forEach(function (input) {
        if (!keep) {
          if (input.tagName === "SELECT") input.selectedIndex = 0;
          else input.value = "";
        }
        if (input.tagName === "INPUT" && input.type !== "hidden") input.required = wanted;
      });
      box.querySelectorAll("[data-picker-options]").forEach(function (options) {
        options.innerHTML = "";
      });
      if (wanted) wantedBoxes.push(box);
    });
    dialog.dataset.cardPk = card.dataset.pk;
    dialog.querySelectorAll("[data-contact-lookup]").forEach(pointLookup);
    return new Promise(function (resolve) {
      dialog.addEventListener(
        "close",
        function () {
          if (dialog.returnValue !== "confirm") return resolve(null);
          // Repeated names (a contact and its role per row) become lists, in row order.
          var values = {};
          wantedBoxes.forEach(function (box) {
            box.querySelectorAll("input[name], select[name]").forEach(function (input) {
              if (/_query$/.test(input.name)) return;
              if (!(input.name in values)) values[input.name] = input.value;
              else values[input.name] = [].concat(values[input.name], input.value);
            });
          });
          resolve(values);
        },
        { once: true }
      );
      dialog.returnValue = "";
      dialog.showModal();
      var first = dialog.querySelector("[data-ask]:not(.d-none) input:not([type=hidden])");
      if (first) first.focus();
    });
  }

  function send(card, stageId, fields) {
    var body = new URLSearchParams();
    body.set("stage", stageId);
    Object.keys(fields).forEach(function (k) {
      [].concat(fields[k]).forEach(function (value) {
        body.append(k, value);
      });
    });
    return fetch(card.dataset.moveUrl + window.location.search, {
      method: "POST",
      headers: {
        "X-CSRFToken": csrfToken(),
        Accept: "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: body.toString(),
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) {
        return { ok: response.ok, data: data };
      });
    });
  }

  function move(card, stageId) {
    var fromStage = card.dataset.stage;
    if (String(fromStage) === String(stageId)) return;
    var origin = card.nextElementSibling;
    var target = column(stageId);
    var kind = target ? target.dataset.kind : "";
    var extra =
      kind === "lost" ? askLossReason() : kind === "won" ? askWonReason() : Promise.resolve({});
    extra.then(function (fields) {
      if (fields === null) {
        placeCard(card, fromStage, origin);
        return;
      }
      placeCard(card, stageId);
      card.setAttribute("aria-busy", "true");
      var snapBack = function (message) {
        card.removeAttribute("aria-busy");
        placeCard(card, fromStage, origin);
        showMessage(message || "");
      };
      var asked = null; // the fields the dialog asked for, once it has
      var attempt = function (values) {
        return send(card, stageId, values).then(function (result) {
          if (result.ok) {
            card.removeAttribute("aria-busy");
            showMessage("");
            updateTotals(result.data.columns);
            swapCard(card, result.data.card);
            return;
          }
          var ask = result.data.ask || [];
          // A value the server refuses reopens the dialog with the reason (values kept);
          // anything else, or a cancelled dialog, puts the card back with the reason.
          var refusedValue = asked && asked.indexOf(result.data.field) !== -1;
          if (ask.length || refusedValue) {
            var again = asked !== null;
            asked = ask.length ? ask : asked;
            return askFields(asked, result.data.error || "", card, again).then(function (given) {
              if (given === null) return snapBack(result.data.error);
              return attempt(Object.assign({}, fields, given));
            });
          }
          snapBack(result.data.error);
        });
      };
      attempt(fields).catch(function () {
        snapBack(card.closest("[data-board]").dataset.offline || "Network error");
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
