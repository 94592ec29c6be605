// The help centre's article page (templates/kb/public/article.html) is cached for everyone, so
// it holds no CSRF token. This loads the "was this helpful?" form from its uncached fragment
// (kb.views.help_article_feedback, which also sets the CSRF cookie) into the page. Without
// JavaScript the section's link opens the same form as a page. No inline script (CSP).
(function () {
  "use strict";
  var box = document.querySelector("[data-kb-feedback]");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-kb-feedback");
  fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "fragment=1", { credentials: "same-origin" })
    .then(function (response) {
      return response.ok ? response.text() : null;
    })
    .then(function (html) {
      if (html) box.innerHTML = html;
    })
    .catch(function () {});
})();
