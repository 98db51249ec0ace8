// The webinar room: follows the webinar live (Server-Sent Events), plays the stream,
// and runs the chat. Every text from people (messages, names) is put into the page as
// text nodes, never as HTML. The server decides what the room shows (`state.stage`);
// this only renders it. Opened as a Telegram Mini App, it signs in with initData first.
(function () {
  "use strict";

  var dataNode = document.getElementById("room-data");
  if (!dataNode) return;
  var data = JSON.parse(dataNode.textContent);
  var T = data.texts || {};

  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": data.csrf
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false }; });
    }, function () { return { ok: false }; });
  }

  // ---- Telegram Mini App: initData arrives in the address' fragment -----------------
  function telegramInitData() {
    var hash = window.location.hash.replace(/^#/, "");
    if (!hash) return null;
    try {
      return new URLSearchParams(hash).get("tgWebAppData");
    } catch (e) {
      return null;
    }
  }

  var initData = telegramInitData();
  if (initData) {
    var gateText = $("gate-text");
    post(data.urls.telegram, { init_data: initData }).then(function (answer) {
      if (answer.ok) {
        // Into the room (or this room as the Telegram user), without the fragment.
        window.location.replace(answer.room + window.location.search);
      } else if ($("gate-notice")) {
        var notice = $("gate-notice");
        notice.textContent = answer.notice || answer.error || T.failed;
        notice.hidden = false;
      }
    });
    if (gateText) return;
  }
  if (!$("room")) return; // the way-in page: nothing else to do

  var state = data.state;
  var me = data.me;
  var skew = data.now * 1000 - Date.now(); // the server's clock counts
  var players = {};

  // ---- the stage ----------------------------------------------------------------------
  function clearPlayer(box) {
    if (players[box.id]) {
      players[box.id].destroy();
      delete players[box.id];
    }
    while (box.firstChild) box.removeChild(box.firstChild);
    box.dataset.key = "";
  }

  function start(video) {
    var playing = video.play();
    if (playing && playing.catch) {
      playing.catch(function () {
        // No sound before the viewer has touched the page: start muted, they unmute.
        video.muted = true;
        video.play().catch(function () {});
      });
    }
  }

  var hlsLoading = null;
  function loadHls() {
    if (window.Hls) return Promise.resolve();
    if (!hlsLoading) {
      hlsLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = data.hls;
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return hlsLoading;
  }

  // ---- AUTO sessions: the recording as if live ----------------------------------------
  // The live moment is the server's now − the planned start (`skew` puts the server's
  // clock on this one). The player starts there, so a late joiner never sees the
  // beginning, and it may fall behind (pause, rewind) but never run ahead: a seek or a
  // faster rate past the live moment is put back. YouTube's embed is started with
  // `start=` and shown without its controls (no seek bar; a click only pauses).
  var AHEAD_S = 2;
  function liveOffset() {
    return Math.max(0, (Date.now() + skew) / 1000 - state.starts_at);
  }

  function atLiveMoment(player) {
    var offset = Math.floor(liveOffset());
    if (player.kind === "iframe") {
      try {
        var url = new URL(player.src);
        url.searchParams.set("start", String(offset));
        url.searchParams.set("autoplay", "1");
        url.searchParams.set("controls", "0");
        url.searchParams.set("disablekb", "1");
        return url.toString();
      } catch (e) { return player.src; }
    }
    if (player.kind === "video") return player.src.split("#")[0] + "#t=" + offset; // media fragment
    return player.src;
  }

  function keepBehindLive(video) {
    video.dataset.sync = "live";
    video.setAttribute("controlslist", "noplaybackrate nodownload");
    function clamp() {
      var live = liveOffset();
      if (video.currentTime > live + AHEAD_S) video.currentTime = live;
    }
    video.addEventListener("loadedmetadata", function () {
      var live = liveOffset();
      if (Math.abs(video.currentTime - live) > AHEAD_S) video.currentTime = live;
    });
    video.addEventListener("seeking", clamp);
    video.addEventListener("timeupdate", clamp);
    video.addEventListener("ratechange", function () {
      if (video.playbackRate > 1) video.playbackRate = 1;
    });
  }

  function showPlayer(box, player) {
    var key = player ? player.kind + " " + player.src : "";
    if (box.dataset.key === key) return; // the same stream: leave it playing
    clearPlayer(box);
    box.dataset.key = key;
    if (!player) return;
    var sync = data.sync && box.id === "player"; // the recording after the end: free
    var src = sync ? atLiveMoment(player) : player.src;
    if (player.kind === "iframe") {
      var frame = el("iframe");
      frame.src = src;
      frame.title = state.title;
      frame.allow = "autoplay; fullscreen; picture-in-picture; encrypted-media";
      frame.allowFullscreen = true;
      frame.referrerPolicy = "strict-origin-when-cross-origin"; // embeds want to know the site
      box.appendChild(frame);
      return;
    }
    var video = el("video");
    video.controls = true;
    video.playsInline = true;
    if (sync) keepBehindLive(video);
    box.appendChild(video);
    var native = video.canPlayType("application/vnd.apple.mpegurl");
    if (player.kind === "hls" && !native) {
      loadHls().then(function () {
        if (box.dataset.key !== key || !window.Hls || !window.Hls.isSupported()) return;
        var options = { enableWorker: false, lowLatencyMode: !sync };
        if (sync) options.startPosition = liveOffset();
        var hls = new window.Hls(options);
        players[box.id] = hls;
        hls.loadSource(player.src);
        hls.attachMedia(video);
        start(video);
      }, function () {});
      return;
    }
    video.src = src;
    start(video);
  }

  function showStartTime() {
    var node = $("start-time");
    if (!node) return;
    try {
      node.textContent = new Intl.DateTimeFormat(data.lang, {
        weekday: "long", day: "numeric", month: "long",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      }).format(new Date(state.starts_at * 1000));
    } catch (e) { /* keep the server's text */ }
  }

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    if (state.stage !== "scheduled") return;
    var left = Math.round((state.starts_at * 1000 - (Date.now() + skew)) / 1000);
    var node = $("countdown");
    if (left <= 0) {
      node.textContent = T.starting;
      return;
    }
    var days = Math.floor(left / 86400);
    var clock = two(Math.floor(left % 86400 / 3600)) + ":" + two(Math.floor(left % 3600 / 60)) +
      ":" + two(left % 60);
    var prefix = "";
    if (days > 0) {
      try {
        prefix = new Intl.NumberFormat(data.lang, { style: "unit", unit: "day", unitDisplay: "long" })
          .format(days) + " ";
      } catch (e) { prefix = days + " d "; }
    }
    node.textContent = prefix + clock;
  }

  function render() {
    $("room").dataset.stage = state.stage;
    ["scheduled", "player", "external", "finished", "cancelled"].forEach(function (name) {
      $("stage-" + name).hidden = name !== state.stage;
    });
    showPlayer($("player"), state.stage === "player" ? state.player : null);
    var recording = state.stage === "finished" ? state.recording : null;
    showPlayer($("recording"), recording);
    $("recording").hidden = !recording;
    $("recording-link").hidden = !recording;
    if (recording) $("recording-link").href = recording.src;
    if (state.stage === "external" && state.join_url) {
      var join = $("join");
      join.href = state.join_url;
      join.textContent = state.stream_type === "zoom" ? T.open_zoom : T.open_telegram;
    }
    renderChat();
    renderOffer();
    tick();
  }

  // ---- the speaker's call-to-action form ---------------------------------------------
  var offerSent = false;
  function renderOffer() {
    $("offer").hidden = !state.offer;
    var toggle = $("offer-toggle");
    if (toggle) {
      toggle.hidden = state.status !== "live";
      toggle.textContent = state.offer ? T.offer_close : T.offer_open;
    }
    var offerForm = $("offer-form");
    if (offerForm) offerForm.hidden = offerSent;
  }

  var offerForm = $("offer-form");
  if (offerForm) {
    offerForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var send = $("offer-send");
      send.disabled = true;
      post(data.urls.offer, { text: $("offer-text").value }).then(function (answer) {
        send.disabled = false;
        $("offer-notice").textContent = answer.notice || answer.error || T.failed;
        if (answer.ok) {
          offerSent = true;
          renderOffer();
        }
      });
    });
  }
  var offerToggle = $("offer-toggle");
  if (offerToggle) {
    offerToggle.addEventListener("click", function () {
      offerToggle.disabled = true;
      post(data.urls.offer_toggle, { open: !state.offer }).then(function (answer) {
        offerToggle.disabled = false;
        if (!answer.ok) $("offer-notice").textContent = answer.notice || T.failed;
      });
    });
  }

  // ---- tracker v2: presence reports ---------------------------------------------------
  // While the room is open and visible it reports every BEAT seconds; hidden, it says so
  // once (and stops counting, unless its Zoom/Telegram was opened from here); closing it
  // sends a beacon. The server counts; this only reports.
  var BEAT_MS = 15000;
  var tab = Math.random().toString(36).slice(2, 12) + Date.now().toString(36);
  var platformOpened = false;
  var reporting = true;

  function reportNow(what) {
    if (!data.token || !reporting) return;
    if (state.stage !== "scheduled" && state.stage !== "player" && state.stage !== "external") return;
    var body = JSON.stringify({ token: data.token, tab: tab, state: what });
    if (what === "gone" && navigator.sendBeacon) {
      navigator.sendBeacon(data.urls.presence, new Blob([body], { type: "application/json" }));
      return;
    }
    fetch(data.urls.presence, {
      method: "POST",
      credentials: "same-origin",
      keepalive: what !== "visible",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: body
    }).then(function (response) {
      if (response.status === 403) reporting = false; // another's link, or the session ended
      return response.json();
    }).then(function (answer) {
      if (answer && answer.stop) reporting = false;
    }).catch(function () {});
  }

  function visibleNow() {
    return document.visibilityState === "visible";
  }

  document.addEventListener("visibilitychange", function () {
    reportNow(visibleNow() ? "visible" : "hidden");
  });
  window.addEventListener("pagehide", function () { reportNow("gone"); });
  window.setInterval(function () {
    if (visibleNow()) reportNow("visible");
    else if (platformOpened) reportNow("hidden"); // in Zoom/Telegram: the room still counts
  }, BEAT_MS);

  $("join").addEventListener("click", function () {
    if (!data.token) return;
    platformOpened = true;
    fetch(data.urls.platform, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ token: data.token })
    }).catch(function () {});
  });

  // ---- the chat -----------------------------------------------------------------------
  var list = $("messages");
  var form = $("chat-form");
  var input = $("chat-text");
  var shown = {};
  var MAX_SHOWN = 300;

  function renderChat() {
    $("chat").hidden = !state.chat;
    var closed = !state.chat_open;
    var refused = me.muted ? T.muted : (closed && !me.speaker ? T.closed : "");
    var line = $("chat-state");
    line.textContent = refused || (closed ? T.closed : "");
    line.hidden = !line.textContent;
    form.hidden = Boolean(refused);
    var toggle = $("chat-toggle");
    if (toggle) toggle.textContent = closed ? T.open_chat : T.close_chat;
  }

  function timeOf(seconds) {
    return new Date(seconds * 1000).toLocaleTimeString(data.lang, { hour: "2-digit", minute: "2-digit" });
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  }

  function tool(label, action, id) {
    var button = el("button", "tool", label);
    button.type = "button";
    button.addEventListener("click", function () { moderate(action, id, button); });
    return button;
  }

  function addMessage(message) {
    if (shown[message.id]) return;
    var follow = nearBottom();
    var item = el("li", message.speaker ? "message from-speaker" : "message");
    item.dataset.id = String(message.id);
    var meta = el("div", "meta");
    meta.appendChild(el("span", "author", message.author || T.guest));
    if (message.speaker) meta.appendChild(el("span", "role", T.speaker));
    if (message.replay) meta.appendChild(el("span", "role replay", T.replay));
    meta.appendChild(el("time", "at", timeOf(message.at)));
    item.appendChild(meta);
    item.appendChild(el("p", "text", message.text));
    if (me.speaker) {
      var tools = el("div", "tools");
      tools.appendChild(tool(T["delete"], "delete", message.id));
      if (!message.speaker && !message.replay) tools.appendChild(tool(T.mute, "mute", message.id));
      item.appendChild(tools);
    }
    // Messages come in id order; a late one still finds its place.
    var after = null;
    for (var node = list.lastElementChild; node; node = node.previousElementSibling) {
      if (Number(node.dataset.id) < message.id) { after = node; break; }
    }
    list.insertBefore(item, after ? after.nextSibling : list.firstChild);
    shown[message.id] = item;
    while (list.children.length > MAX_SHOWN) {
      delete shown[list.firstElementChild.dataset.id];
      list.removeChild(list.firstElementChild);
    }
    if (follow) list.scrollTop = list.scrollHeight;
  }

  function removeMessage(id) {
    var item = shown[id];
    if (!item) return;
    item.parentNode.removeChild(item);
    delete shown[id];
  }

  function notice(text) {
    var node = $("chat-notice");
    node.textContent = text || "";
  }

  function moderate(action, id, button) {
    if (button) button.disabled = true;
    post(data.urls.moderate, { action: action, message_id: id }).then(function (answer) {
      if (button) button.disabled = false;
      notice(answer.ok ? "" : (answer.notice || answer.error || T.failed));
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    var send = $("chat-send");
    send.disabled = true;
    post(data.urls.chat, { text: text }).then(function (answer) {
      send.disabled = false;
      if (answer.ok) {
        input.value = "";
        notice("");
      } else {
        notice(answer.notice || answer.error || T.failed);
      }
      input.focus();
    });
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  var toggle = $("chat-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      moderate(state.chat_open ? "close" : "open", null, toggle);
    });
  }

  // ---- the live connection ------------------------------------------------------------
  function connection(text) {
    var node = $("connection");
    node.textContent = text || "";
    node.hidden = !text;
  }

  var source = new EventSource(data.urls.events);
  source.addEventListener("open", function () { connection(""); });
  source.addEventListener("error", function () {
    connection(T.offline); // EventSource reconnects by itself, with Last-Event-ID
  });
  source.addEventListener("state", function (event) {
    state = JSON.parse(event.data);
    render();
  });
  source.addEventListener("me", function (event) {
    var update = JSON.parse(event.data);
    for (var key in update) me[key] = update[key];
    renderChat();
  });
  source.addEventListener("message", function (event) {
    addMessage(JSON.parse(event.data));
  });
  source.addEventListener("deleted", function (event) {
    JSON.parse(event.data).ids.forEach(removeMessage);
  });

  showStartTime();
  render();
  if (visibleNow()) reportNow("visible");
  window.setInterval(tick, 1000);
})();
