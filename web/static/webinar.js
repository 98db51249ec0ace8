// The webinar page and the registration pages: the start in the visitor's own time zone,
// a countdown, and the page following the webinar's status without a reload.
(function () {
  "use strict";
  var lang = document.documentElement.lang || undefined;

  function show(el, when) {
    if (isNaN(when)) return;
    try {
      el.textContent = new Intl.DateTimeFormat(lang, {
        weekday: "short", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
        timeZoneName: "short"
      }).format(when);
    } catch (e) { /* keep the server's text */ }
  }
  document.querySelectorAll("time.local-time").forEach(function (el) {
    show(el, new Date(el.getAttribute("datetime")));
  });

  var page = document.querySelector(".webinar[data-state-url]");
  if (!page) return;
  var startsAt = Number(page.dataset.startsAt) * 1000;
  var countdown = page.querySelector(".countdown");
  var value = page.querySelector(".countdown-value");

  function two(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var left = Math.floor((startsAt - Date.now()) / 1000);
    if (page.dataset.status !== "scheduled" || left <= 0) { countdown.hidden = true; return; }
    var days = Math.floor(left / 86400), rest = left % 86400;
    value.textContent = (days ? days + " × 24h + " : "") +
      two(Math.floor(rest / 3600)) + ":" + two(Math.floor(rest % 3600 / 60)) + ":" + two(rest % 60);
    countdown.hidden = false;
  }
  tick();
  setInterval(tick, 1000);

  function follow() {
    fetch(page.dataset.stateUrl, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (!state) return;
        page.dataset.status = state.status;
        if (state.starts_at * 1000 !== startsAt) {  // rescheduled while the page was open
          startsAt = state.starts_at * 1000;
          var time = page.querySelector("time.local-time");
          time.setAttribute("datetime", new Date(startsAt).toISOString());
          show(time, new Date(startsAt));
        }
        tick();
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }
  setInterval(follow, 5000);
})();
