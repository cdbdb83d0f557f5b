// capstan ui: keeps the page's live part current. The server sends a
// "change" event when a watched object changes; the live part is then read
// again and put in place, keeping open <details> open. No other code runs.
(function () {
  "use strict";
  var main = document.getElementById("live");
  var conn = document.getElementById("conn");
  if (!main || !main.dataset.live || !window.EventSource) {
    return;
  }
  var busy = false;
  var again = false;
  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    var src = main.dataset.live;
    src += (src.indexOf("?") < 0 ? "?" : "&") + "part=live";
    fetch(src, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html !== null) {
          main.innerHTML = html;
          main.dataset.refreshed = String(Number(main.dataset.refreshed || 0) + 1);
        }
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }
  var url = "/events";
  if (main.dataset.watch) {
    url += "?sync=" + encodeURIComponent(main.dataset.watch);
  }
  var es = new EventSource(url);
  es.addEventListener("change", refresh);
  es.onopen = function () {
    if (conn) {
      conn.textContent = "● live";
      conn.className = "conn on";
    }
  };
  es.onerror = function () {
    if (conn) {
      conn.textContent = "○ reconnecting";
      conn.className = "conn off";
    }
  };
})();
