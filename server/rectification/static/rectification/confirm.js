// Forms with data-confirm ask before they are sent (closing without a re-check, asking a
// whole subtree to re-check). The question is the attribute's text, already translated.
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
})();
