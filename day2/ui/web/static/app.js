// capstan ui: keeps the page's live part current. The server sends a
// "change" event when a watched object changes; the live part is then read
// again and put in place when it differs from what is shown (ages aside:
// <time> elements are kept current here). No other code runs.
(function () {
  "use strict";
  var main = document.getElementById("live");
  var conn = document.getElementById("conn");
  if (!main || !main.dataset.live || !window.EventSource) {
    return;
  }
  var busy = false;
  var again = false;
  // stable is html without the text of its <time> elements.
  function stable(html) {
    return html.replace(/(<time[^>]*>)[^<]*(<\/time>)/g, "$1$2");
  }
  var shown = null; // the last live part read, ages aside
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
        if (html !== null && stable(html) !== shown) {
          main.innerHTML = html;
          shown = stable(html);
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
  function age(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 120) return s + "s";
    var m = Math.floor(s / 60);
    if (m < 10) return m + "m" + (s % 60 ? (s % 60) + "s" : "");
    if (m < 180) return m + "m";
    var h = Math.floor(m / 60);
    if (h < 48) return h + "h";
    return Math.floor(h / 24) + "d";
  }
  window.setInterval(function () {
    var now = Date.now();
    var times = main.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var t = Date.parse(times[i].getAttribute("datetime"));
      if (!isNaN(t)) {
        times[i].textContent = age(now - t);
      }
    }
  }, 5000);
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
