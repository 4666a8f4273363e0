// Moves focus to the sign-up form's error summary when the page comes back
// with errors, so screen readers announce them and the page scrolls there,
// and makes the summary's links focus the field they name.
(function () {
  "use strict";
  function start() {
    var summary = document.getElementById("error-summary");
    if (!summary) { return; }
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
      if (!link) { return; }
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      var field = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
      if (!field) { return; }
      event.preventDefault();
      // Show the field's label (or legend) above it, then focus the field.
      var label = document.querySelector("label[for='" + field.id + "']");
      var legend = target.querySelector("legend");
      (legend || label || field).scrollIntoView();
      field.focus({ preventScroll: true });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
