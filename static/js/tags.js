// Tag names typed with commas (crm.tags.TagNamesInput): the <datalist> offers the known names for
// the name being typed, keeping the names already typed before it.
(function () {
  "use strict";

  document.addEventListener("input", function (event) {
    var input = event.target.closest("input[data-tag-names]");
    if (!input || !input.list) return;
    var list = input.list;
    if (!list.dataset.names) {
      list.dataset.names = JSON.stringify(Array.prototype.map.call(list.options, function (o) { return o.value; }));
    }
    var names = JSON.parse(list.dataset.names);
    var cut = Math.max(input.value.lastIndexOf(","), input.value.lastIndexOf("\uff0c"));
    var before = cut < 0 ? "" : input.value.slice(0, cut + 1) + " ";
    var typed = before.split(/[,\uff0c]/).map(function (n) { return n.trim().toLowerCase(); });
    list.innerHTML = "";
    names.forEach(function (name) {
      if (typed.indexOf(name.toLowerCase()) >= 0) return;
      var option = document.createElement("option");
      option.value = before + name;
      list.appendChild(option);
    });
  });
})();
