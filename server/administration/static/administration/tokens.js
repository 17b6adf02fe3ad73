// The copy button next to a token that is shown only once, and the question before a
// token is revoked (forms with data-confirm).
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
  var button = document.getElementById("ad-copy-token");
  var field = document.getElementById("ad-clear-token");
  if (!button || !field) {
    return;
  }
  button.addEventListener("click", function () {
    field.select();
    var done = function () { button.textContent = button.getAttribute("data-copied"); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done);
    } else {
      document.execCommand("copy");
      done();
    }
  });
})();
