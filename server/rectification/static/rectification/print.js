// The print button of the printable notice (no inline handlers: the CSP forbids them).
(function () {
  "use strict";
  var button = document.getElementById("rx-print-button");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
})();
