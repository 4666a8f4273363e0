// Adds the viewer's own local time beside a session time when the viewer's
// clock reads differently from the session's zone (a viewer in UTC looking at
// a 3:00 PM GMT session sees no hint; one in New York sees 10:00 AM EST).
(function () {
  "use strict";
  function localTimes() {
    var nodes = document.querySelectorAll("time[data-local-time]");
    var clock = { weekday: "long", day: "numeric", month: "long", hour: "numeric", minute: "2-digit" };
    var withZone = Object.assign({ timeZoneName: "short" }, clock);
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var start = new Date(node.getAttribute("datetime"));
      if (isNaN(start.getTime())) { continue; }
      var sessionZone = node.getAttribute("data-zone") || "UTC";
      var here, there;
      try {
        here = new Intl.DateTimeFormat(undefined, clock).format(start);
        there = new Intl.DateTimeFormat(undefined, Object.assign({ timeZone: sessionZone }, clock)).format(start);
      } catch (e) { continue; }
      var hint = node.parentNode.querySelector(".local-time");
      if (!hint || here === there) { continue; }
      hint.textContent = "Your time: " + new Intl.DateTimeFormat(undefined, withZone).format(start);
      hint.hidden = false;
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", localTimes);
  } else {
    localTimes();
  }
})();
