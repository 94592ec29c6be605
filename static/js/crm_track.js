/* Page-view tracking for a customer's own website (the web form's snippet):
 *   <script src="https://crm.example.com/static/js/crm_track.js"
 *           data-crm-track="https://crm.example.com/t/pv/form:contact-us/" async></script>
 * On each page load it posts the page's address, title and referrer as a small JSON body sent
 * as text/plain (no preflight; the CRM only accepts the site's allowed origins) without cookies.
 * The CRM answers a first visit with a signed visitor id, kept in this site's own storage
 * (localStorage "crm_visitor") and sent with every later page view; leadform_embed.js sends it
 * with the form, so the lead is linked to its page views. A link on the site to the CRM's
 * hosted form page (/forms/<slug>/) gets the id as ?visitor= when followed, so a lead sent there
 * is linked the same way. Nothing else is read or stored. */
(function () {
  "use strict";
  var KEY = "crm_visitor";
  var script = document.currentScript || document.querySelector("script[data-crm-track]");
  var endpoint = script && script.getAttribute("data-crm-track");
  if (!endpoint || !window.fetch) { return; }

  function stored() {
    try { return window.localStorage.getItem(KEY) || ""; } catch (e) { return ""; }
  }

  function keep(value) {
    try { window.localStorage.setItem(KEY, value); } catch (e) { /* storage refused: stay anonymous */ }
  }

  function send() {
    var body = {
      url: window.location.href.slice(0, 2000),
      title: (document.title || "").slice(0, 300),
      referrer: (document.referrer || "").slice(0, 2000),
      visitor: stored()
    };
    fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify(body),
      credentials: "omit",
      keepalive: true
    }).then(function (response) {
      return response.ok ? response.json() : {};
    }).then(function (answer) {
      if (answer && answer.visitor) { keep(answer.visitor); }
    }).catch(function () { /* tracking never disturbs the page */ });
  }

  // Links to the CRM's hosted forms carry the visitor id (added as the link is followed, so an
  // id that arrived after the page loaded is used too).
  var crm;
  try { crm = new URL(endpoint, window.location.href).origin; } catch (e) { crm = ""; }
  function carry(event) {
    var link = event.target && event.target.closest ? event.target.closest("a[href]") : null;
    var visitor = stored();
    if (!link || !visitor || !crm) { return; }
    try {
      var target = new URL(link.href, window.location.href);
      if (target.origin === crm && target.pathname.indexOf("/forms/") === 0) {
        target.searchParams.set("visitor", visitor);
        link.href = target.href;
      }
    } catch (e) { /* not a link we can read: leave it */ }
  }
  document.addEventListener("click", carry, true);
  document.addEventListener("auxclick", carry, true);

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", send); } else { send(); }
})();
