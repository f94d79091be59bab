// tradewind UI: refresh live pages while runs are active, and follow a running task's log.
// No library; text from the server is set with textContent, never as HTML.
(function () {
  "use strict";

  var REFRESH_MS = 3000;
  var LOG_POLL_MS = 1500;

  function busy(region) {
    var focused = document.activeElement;
    return focused && region.contains(focused) && /^(INPUT|TEXTAREA|SELECT)$/.test(focused.tagName);
  }

  // Pages with data-live="1" (an active run is shown) fetch themselves again and swap the #live
  // region, until the page says nothing is active any more.
  function refreshLive() {
    if (document.body.getAttribute("data-live") !== "1") return;
    setTimeout(function () {
      var region = document.getElementById("live");
      if (!region || busy(region) || document.hidden) { refreshLive(); return; }
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "refresh" } })
        .then(function (response) {
          if (response.redirected || !response.ok) throw new Error("refresh " + response.status);
          return response.text();
        })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html");
          var next = fresh.getElementById("live");
          if (next) region.replaceWith(document.adoptNode(next));
          document.body.setAttribute("data-live", fresh.body.getAttribute("data-live") || "0");
          refreshLive();
        })
        .catch(function () { setTimeout(refreshLive, REFRESH_MS); });
    }, REFRESH_MS);
  }

  // The log page reads the log from offset 0 and then keeps asking for what came after, until
  // the try has finished and everything is read.
  function followLog() {
    var pre = document.getElementById("log");
    if (!pre) return;
    var status = document.getElementById("log-status");
    var source = pre.getAttribute("data-src");
    var offset = 0;
    function poll() {
      var url = source + "&offset=" + offset;
      fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (data.text) {
            var atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
            pre.appendChild(document.createTextNode(data.text));
            if (atEnd) pre.scrollTop = pre.scrollHeight;
          }
          if (typeof data.next_offset === "number") offset = data.next_offset;
          var state = document.getElementById("ti-state");
          if (state && data.state !== undefined) {
            var name = data.state || "none";
            state.textContent = name;
            state.className = "badge s-" + name;
          }
          if (data.missing && status) status.textContent = data.missing;
          if (data.done) {
            if (status && !data.missing) status.textContent = status.textContent.replace(/ · following…$/, "") + " · complete";
            return;
          }
          if (status && !/following/.test(status.textContent)) status.textContent += " · following…";
          setTimeout(poll, data.text ? 0 : LOG_POLL_MS);
        })
        .catch(function () { setTimeout(poll, LOG_POLL_MS * 2); });
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    refreshLive();
    followLog();
  });
})();
