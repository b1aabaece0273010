// parley console: live updates, countdowns, the alarm, keyboard shortcuts.
// Everything works without it; it only keeps the page current.
"use strict";
(function () {
  function pad(n) { return String(n).padStart(2, "0"); }

  // Seconds the node's clock runs behind real time: non-zero only on a
  // demo's story clock (see clock.rs), so countdowns agree with the node.
  var clockOffset = Number(document.body.dataset.clockOffset || 0);

  // The page's language (the node chose it): the same words and date
  // order as the server writes (see i18n/format.rs).
  var ru = document.documentElement.lang === "ru";
  var words = ru
    ? { days: " сут.", d: " сут. ", h: " ч", min: " мин", s: " с", within: "через ", overdue: "ПРОСРОЧЕНО на " }
    : { days: " days", d: " d ", h: " h", min: " min", s: " s", within: "in ", overdue: "OVERDUE by " };

  function utcNow() {
    var d = new Date(Date.now() + clockOffset * 1000);
    var clock = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
    if (ru) {
      return pad(d.getUTCDate()) + "." + pad(d.getUTCMonth() + 1) + "." + d.getUTCFullYear() + " " + clock + " UTC";
    }
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + clock + "Z";
  }

  function span(secs) {
    var s = Math.abs(secs), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
      m = Math.floor(s % 3600 / 60), r = Math.floor(s % 60);
    if (d >= 2) return d + words.days;
    if (d === 1) return "1" + words.d + pad(h) + words.h;
    if (h > 0) return h + words.h + " " + pad(m) + words.min;
    return m + words.min + " " + pad(r) + words.s;
  }

  function tick() {
    var clock = document.getElementById("clock");
    if (clock) clock.textContent = utcNow();
    var now = Date.now() / 1000 + clockOffset;
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var left = Number(el.dataset.due) - now;
      el.textContent = left >= 0 ? words.within + span(left) : words.overdue + span(left);
      el.classList.toggle("overdue-text", left < 0);
    });
  }
  setInterval(tick, 1000);
  tick();

  // The alarm: while unacknowledged flash or immediate traffic is on the
  // page, beep every 1.5 seconds and flash the title. Browsers keep a page
  // silent until the user has touched it: the first click or key unlocks it.
  var audio = null, baseTitle = document.title, flip = false;
  function unlock() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
    } catch (e) { /* no audio */ }
  }
  document.addEventListener("click", unlock, true);
  document.addEventListener("keydown", unlock, true);
  function alarmOn() { return document.querySelector("[data-alarm]") !== null; }
  setInterval(function () {
    if (!alarmOn()) { document.title = baseTitle; return; }
    flip = !flip;
    document.title = (flip ? (ru ? "▲▲ МОЛНИЯ ▲▲ " : "▲▲ FLASH ▲▲ ") : "") + baseTitle;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = 880; g.gain.value = 0.15;
      o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.25);
    } catch (e) { /* no audio device: the flashing banner remains */ }
  }, 1500);

  // Live updates: on any event, fetch this page again and swap in the
  // parts that change, keeping what the user is typing.
  var pending = false;
  function refresh() {
    if (pending || !document.body.dataset.live) return;
    pending = true;
    setTimeout(function () {
      fetch(location.href, { headers: { "X-Parley-Partial": "1" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          pending = false;
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          ["live", "alarms", "nav"].forEach(function (id) {
            var fresh = doc.getElementById(id), old = document.getElementById(id);
            if (fresh && old) old.innerHTML = fresh.innerHTML;
          });
          tick();
          document.dispatchEvent(new Event("parley:updated"));
        })
        .catch(function () { pending = false; });
    }, 300);
  }
  if (window.EventSource && document.body.dataset.live) {
    var es = new EventSource("/console/events");
    ["entry", "receipt", "link", "evidence"].forEach(function (t) { es.addEventListener(t, refresh); });
  }

  // Keyboard: one key when not typing.
  var keys = { i: "/inbox", c: "/compose", o: "/obligations", l: "/links", x: "/exercises",
    m: "/meetings", n: "/negotiations", s: "/silence", t: "/timeline", v: "/verify" };
  document.addEventListener("keydown", function (e) {
    var tag = (e.target.tagName || "").toLowerCase();
    if (e.ctrlKey || e.metaKey || e.altKey || tag === "input" || tag === "textarea" || tag === "select") return;
    if (e.key === "a") {
      var ack = document.querySelector("button.ack");
      if (ack) { ack.focus(); e.preventDefault(); }
      return;
    }
    if (keys[e.key]) { location.href = keys[e.key]; e.preventDefault(); }
  });
})();
