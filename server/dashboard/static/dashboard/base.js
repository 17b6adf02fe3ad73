/* Behaviour every dashboard page shares. Plain JS, no build step; loaded as a file because
   the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Selects marked data-autosubmit (the language switch) submit their form when changed;
  // without JS their form keeps a visible submit button.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });
})();
