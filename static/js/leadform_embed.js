/* Embeds a CRM web-to-lead form on another site (the admin's snippet):
 *   <div data-crm-lead-form="https://crm.example.com/forms/contact-us/"></div>
 *   <script src="https://crm.example.com/static/js/leadform_embed.js" async></script>
 * Fetches the form's fields and a token (CORS: the site's origin must be allowed on the form),
 * draws the form with the host page's styles, posts it as JSON and shows errors beside the
 * fields, then the thank-you message (or goes to the redirect address). UTM parameters of the
 * host page's address are sent along, and crm_track.js's visitor id when the site has it.
 * Text is only ever set as text, never as HTML. */
(function () {
  "use strict";
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function control(field, id) {
    var input;
    if (field.type === "select") {
      input = el("select", { id: id, name: field.name, "class": "form-select" });
      (field.choices || []).forEach(function (choice) {
        input.appendChild(el("option", { value: choice[0] }, choice[1]));
      });
    } else if (field.type === "textarea") {
      input = el("textarea", { id: id, name: field.name, rows: "4", "class": "form-control" });
    } else if (field.type === "checkbox") {
      input = el("input", { id: id, name: field.name, type: "checkbox", "class": "form-check-input" });
    } else {
      input = el("input", { id: id, name: field.name, type: field.type, "class": "form-control" });
    }
    if (field.required) { input.setAttribute("required", ""); }
    if (field.max_length) { input.setAttribute("maxlength", String(field.max_length)); }
    return input;
  }

  function render(box, url, spec) {
    var state = { token: spec.token };
    var form = el("form", { novalidate: "", "class": "crm-lead-form" });
    var status = el("div", { role: "alert", "class": "crm-lead-form-status", style: "color:#b02a37" });
    var errors = {};
    form.appendChild(status);
    var trap = el("div", { "aria-hidden": "true", style: "position:absolute;left:-9999px" });
    trap.appendChild(el("input", { name: spec.honeypot, tabindex: "-1", autocomplete: "off" }));
    form.appendChild(trap);
    spec.fields.forEach(function (field, i) {
      var id = "crm-lf-" + field.name + "-" + i;
      var row = el("div", { "class": "mb-2", style: "margin-bottom:.75rem" });
      var label = el("label", { "for": id, "class": "form-label" }, field.label + (field.required ? " *" : ""));
      var input = control(field, id);
      if (field.type === "checkbox") {
        row.appendChild(input); row.appendChild(label);
      } else {
        label.setAttribute("style", "display:block");
        input.setAttribute("style", "display:block;width:100%;max-width:32rem;box-sizing:border-box");
        row.appendChild(label); row.appendChild(input);
      }
      errors[field.name] = el("div", { "class": "invalid-feedback d-block", "aria-live": "polite", style: "color:#b02a37" });
      row.appendChild(errors[field.name]);
      form.appendChild(row);
    });
    var button = el("button", { type: "submit", "class": "btn btn-primary" }, spec.submit);
    form.appendChild(button);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = {};
      Array.prototype.forEach.call(form.elements, function (input) {
        if (!input.name) { return; }
        data[input.name] = input.type === "checkbox" ? input.checked : input.value;
      });
      data[spec.token_field] = state.token;
      try {  // crm_track.js's visitor id on this site: the lead is linked to its page views
        var visitor = window.localStorage.getItem("crm_visitor");
        if (visitor) { data.visitor = visitor; }
      } catch (e) { /* no storage: not linked */ }
      var params = new URLSearchParams(window.location.search);
      UTM.forEach(function (name) { if (params.get(name)) { data[name] = params.get(name).slice(0, 100); } });
      button.disabled = true;
      status.textContent = "";
      Object.keys(errors).forEach(function (name) { errors[name].textContent = ""; });
      fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(data)
      }).then(function (response) {
        return response.json().then(function (body) { return { status: response.status, body: body }; });
      }).then(function (answer) {
        button.disabled = false;
        var body = answer.body;
        if (body.ok) {
          if (body.redirect) { window.location.assign(body.redirect); return; }
          box.replaceChildren(el("p", { role: "status", "class": "crm-lead-form-done" }, body.message));
          return;
        }
        if (body.token) { state.token = body.token; }
        var general = [];
        Object.keys(body.errors || {}).forEach(function (name) {
          var text = body.errors[name].join(" ");
          if (errors[name]) { errors[name].textContent = text; } else { general.push(text); }
        });
        if (body.detail) { general.push(body.detail); }
        status.textContent = general.join(" ");
      }).catch(function () {
        button.disabled = false;
        status.textContent = spec.failed || "The form could not be sent. Please try again.";
      });
    });
    box.replaceChildren(form);
  }

  function load(box) {
    var url = box.getAttribute("data-crm-lead-form");
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (spec) { render(box, url, spec); })
      .catch(function () { box.textContent = "The form could not be loaded."; });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-crm-lead-form]"), load);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
