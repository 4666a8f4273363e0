// Adds the viewer's own local time beside a session time when the viewer's
// time zone shows a different clock time from the session's zone.
(function () {
  "use strict";
  function localTimes() {
    var viewerZone;
    try { viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    var nodes = document.querySelectorAll("time[data-local-time]");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var start = new Date(node.getAttribute("datetime"));
      if (isNaN(start.getTime())) { continue; }
      var opts = { weekday: "long", day: "numeric", month: "long", hour: "numeric", minute: "2-digit", timeZoneName: "short" };
      var sessionZone = node.getAttribute("data-zone") || "UTC";
      var here, there;
      try {
        here = new Intl.DateTimeFormat(undefined, opts).format(start);
        there = new Intl.DateTimeFormat(undefined, Object.assign({}, opts, { timeZone: sessionZone })).format(start);
      } catch (e) { continue; }
      if (here === there && viewerZone === sessionZone) { continue; }
      var hint = node.parentNode.querySelector(".local-time");
      if (!hint || here === there) { continue; }
      hint.textContent = "Your time: " + here;
      hint.hidden = false;
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", localTimes);
  } else {
    localTimes();
  }
})();
