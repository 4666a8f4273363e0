// Small progressive enhancements of the admin; every page works without them.
(function () {
  "use strict";

  // Ask before actions that cannot be undone (forms with data-confirm).
  function confirmations() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var question = form.getAttribute && form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) { event.preventDefault(); }
    });
  }

  // On a new session, preselect the organizer's own time zone when the
  // picker offers it and nothing was chosen yet.
  function zonePicker() {
    var select = document.querySelector('select[data-enhance="zone"]');
    if (!select) { return; }
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) { select.selectedIndex = i; return; }
    }
  }

  // Select a new API token's text on focus, ready to copy.
  function secrets() {
    var inputs = document.querySelectorAll('input[data-enhance="select"]');
    for (var i = 0; i < inputs.length; i++) {
      inputs[i].addEventListener("focus", function (e) { e.target.select(); });
    }
  }

  // Keep a running fan-out's progress up to date without reloading the page.
  function progress() {
    var box = document.getElementById("fanout-progress");
    if (!box || !box.getAttribute("data-refresh") || !window.fetch || !window.DOMParser) { return; }
    var url = box.getAttribute("data-refresh");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("fanout-progress");
          if (!fresh) { return; }
          box.innerHTML = fresh.innerHTML;
          if (fresh.getAttribute("data-refresh")) { window.setTimeout(poll, 2000); }
        })
        .catch(function () { /* the Refresh link still works */ });
    }
    window.setTimeout(poll, 2000);
  }

  function start() { confirmations(); zonePicker(); secrets(); progress(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
