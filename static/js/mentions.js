// @mentions in the comment composer (templates/activities/partials/comment_composer.html):
// typing "@" and a few letters lists the colleagues who may see the record; choosing one writes
// "@[Name](id)" into the comment. No inline handlers (CSP): delegated listeners on the document.
(function () {
  "use strict";

  var timer = null;

  function mentionAt(area) {
    // The "@word" just before the caret, or null.
    var upto = area.value.slice(0, area.selectionStart);
    var match = /(^|\s)@([^\s@\[\]()]{0,30})$/.exec(upto);
    if (!match) return null;
    return { start: upto.length - match[2].length - 1, query: match[2] };
  }

  function listFor(area) {
    return area.parentElement.querySelector("[data-mention-list]");
  }

  function close(area) {
    var list = listFor(area);
    if (!list) return;
    list.classList.add("d-none");
    list.innerHTML = "";
    area.removeAttribute("aria-activedescendant");
  }

  function choose(area, item) {
    var at = mentionAt(area);
    if (!at) return close(area);
    var token = "@[" + item.dataset.name.replace(/[\[\]]/g, "") + "](" + item.dataset.id + ") ";
    var before = area.value.slice(0, at.start);
    var after = area.value.slice(area.selectionStart);
    area.value = before + token + after;
    var caret = before.length + token.length;
    area.setSelectionRange(caret, caret);
    close(area);
    area.focus();
  }

  function show(area, results) {
    var list = listFor(area);
    if (!list) return;
    list.innerHTML = "";
    results.forEach(function (user, index) {
      var item = document.createElement("li");
      item.className = "list-group-item list-group-item-action py-1" + (index === 0 ? " active" : "");
      item.setAttribute("role", "option");
      item.id = area.id + "-mention-" + user.id;
      item.dataset.id = user.id;
      item.dataset.name = user.name;
      item.dataset.mentionOption = "";
      var name = document.createElement("span");
      name.textContent = user.name;
      var email = document.createElement("small");
      email.className = "text-body-secondary ms-2";
      email.textContent = user.email;
      item.appendChild(name);
      item.appendChild(email);
      list.appendChild(item);
    });
    list.classList.toggle("d-none", results.length === 0);
  }

  function lookup(area) {
    var at = mentionAt(area);
    if (!at) return close(area);
    var url = area.dataset.mentionUrl + "?q=" + encodeURIComponent(at.query);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) { if (mentionAt(area)) show(area, data.results || []); })
      .catch(function () { close(area); });
  }

  document.addEventListener("input", function (event) {
    var area = event.target.closest("textarea[data-mention-url]");
    if (!area) return;
    clearTimeout(timer);
    timer = setTimeout(function () { lookup(area); }, 150);
  });

  document.addEventListener("keydown", function (event) {
    var area = event.target.closest("textarea[data-mention-url]");
    if (!area) return;
    var list = listFor(area);
    if (!list || list.classList.contains("d-none")) return;
    var items = Array.prototype.slice.call(list.querySelectorAll("[data-mention-option]"));
    var current = items.findIndex(function (item) { return item.classList.contains("active"); });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var next = (current + (event.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      items.forEach(function (item, i) { item.classList.toggle("active", i === next); });
      area.setAttribute("aria-activedescendant", items[next].id);
    } else if ((event.key === "Enter" || event.key === "Tab") && current >= 0) {
      event.preventDefault();
      choose(area, items[current]);
    } else if (event.key === "Escape") {
      close(area);
    }
  });

  document.addEventListener("mousedown", function (event) {
    var item = event.target.closest("[data-mention-option]");
    if (!item) return;
    event.preventDefault(); // keep the focus in the textarea
    var area = item.closest(".position-relative").querySelector("textarea[data-mention-url]");
    choose(area, item);
  });
})();
