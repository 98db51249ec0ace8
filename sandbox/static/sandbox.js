// The sandbox page: act as a Telegram user, see the bot's messages live.
// Every text from a bot or a user is put into the page as text nodes (never as HTML);
// Telegram formatting comes as entities and is rebuilt from known element types only.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  bot: null,
  user: null,
  source: null,
  keyboard: null,
  commands: [],
  pending: new Map(), // callback query id -> the pressed button
  typingTimer: 0,
  stuck: true, // the chat is scrolled to its end
};

// ---- server calls -------------------------------------------------------------------
async function post(path, body) {
  const response = await fetch(`/sandbox/api/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Sandbox": "1" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

async function loadState() {
  const response = await fetch("/sandbox/api/state");
  return response.json();
}

// ---- small DOM helpers -------------------------------------------------------------
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function safeUrl(url) {
  return /^(https?|tg):/i.test(url || "") ? url : null;
}

function initial(name) {
  return (Array.from((name || "?").trim())[0] || "?").toUpperCase();
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.hidden = true), 3500);
}

function alertBox(text) {
  $("alert-text").textContent = text;
  $("alert-dialog").showModal();
}

// ---- Telegram entities -> DOM ------------------------------------------------------
// Offsets are UTF-16 code units, which is exactly how JavaScript indexes strings.
function entityNode(entity, text) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": return el("pre");
    case "blockquote":
    case "expandable_blockquote": return el("blockquote");
    case "spoiler": {
      const node = el("span", "spoiler");
      node.title = "Spoiler: click to show";
      node.addEventListener("click", () => node.classList.add("shown"));
      return node;
    }
    case "text_link":
    case "url": {
      const href = safeUrl(entity.type === "url" ? text : entity.url);
      if (!href) return el("span");
      const link = el("a");
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      return link;
    }
    case "bot_command": {
      const link = el("a", "command");
      link.href = "#";
      link.addEventListener("click", (event) => {
        event.preventDefault();
        sendText(text.split("@")[0]);
      });
      return link;
    }
    default: return el("span", `entity-${String(entity.type).replace(/[^a-z_]/g, "")}`);
  }
}

function appendFormatted(parent, text, entities, start, end) {
  let position = start;
  let index = 0;
  while (index < entities.length) {
    const entity = entities[index];
    const stop = Math.min(entity.offset + entity.length, end);
    const inner = [];
    let next = index + 1;
    while (next < entities.length && entities[next].offset < stop) {
      const child = entities[next];
      const childStop = Math.min(child.offset + child.length, stop);
      inner.push({ ...child, length: childStop - child.offset });
      next += 1;
    }
    if (entity.offset > position) parent.append(text.slice(position, entity.offset));
    const node = entityNode(entity, text.slice(entity.offset, stop));
    appendFormatted(node, text, inner, entity.offset, stop);
    parent.append(node);
    position = Math.max(position, stop);
    // A block (pre, quote) ends its line itself: Telegram's apps drop the newline after it.
    if (node.tagName === "PRE" || node.tagName === "BLOCKQUOTE") {
      if (text[position] === "\n" && position < end) position += 1;
    }
    index = next;
  }
  if (position < end) parent.append(text.slice(position, end));
}

function formatted(text, entities) {
  const box = el("div", "text");
  const sorted = (entities || [])
    .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  appendFormatted(box, text, sorted, 0, text.length);
  return box;
}

// ---- messages -----------------------------------------------------------------------
function fileUrl(fileId) {
  return `/sandbox/files/${encodeURIComponent(fileId)}`;
}

function formatSize(bytes) {
  if (bytes === undefined) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function mediaNode(message) {
  if (message.photo) {
    const size = message.photo[message.photo.length - 1];
    const link = el("a", "photo");
    link.href = fileUrl(size.file_id);
    link.target = "_blank";
    link.rel = "noopener";
    const image = el("img");
    image.src = link.href;
    image.alt = "Photo";
    image.addEventListener("load", follow);
    if (size.width && size.height) image.style.aspectRatio = `${size.width} / ${size.height}`;
    link.append(image);
    return link;
  }
  if (message.contact) {
    const card = el("div", "contact");
    const name = [message.contact.first_name, message.contact.last_name].filter(Boolean);
    card.append(el("span", "contact-name", `👤 ${name.join(" ")}`));
    card.append(el("span", "contact-phone", `+${message.contact.phone_number}`));
    return card;
  }
  if (message.document) {
    const doc = message.document;
    const link = el("a", "document");
    link.href = fileUrl(doc.file_id);
    link.download = doc.file_name || "file";
    link.append(el("span", "document-icon", "⬇"));
    const about = el("span", "document-about");
    about.append(el("span", "document-name", doc.file_name || "file"));
    about.append(el("span", "document-size", formatSize(doc.file_size)));
    link.append(about);
    return link;
  }
  return null;
}

function keyboardNode(message) {
  const rows = (message.reply_markup && message.reply_markup.inline_keyboard) || [];
  if (!rows.length) return null;
  const box = el("div", "inline-keyboard");
  for (const row of rows) {
    const line = el("div", "inline-row");
    for (const button of row) line.append(inlineButton(message, button));
    box.append(line);
  }
  return box;
}

function inlineButton(message, button) {
  if (button.url !== undefined) {
    const href = safeUrl(button.url);
    const link = el(href ? "a" : "span", "inline-button url", button.text);
    if (href) {
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.title = href;
    }
    return link;
  }
  if (button.web_app !== undefined) {
    // A Mini App: Telegram opens its page with initData signed for this user.
    const app = el("button", "inline-button url", button.text);
    app.type = "button";
    app.title = button.web_app.url;
    app.addEventListener("click", () => openWebApp(message.message_id, button.web_app.url));
    return app;
  }
  const node = el("button", "inline-button", button.text);
  node.type = "button";
  if (button.callback_data === undefined) {
    node.disabled = true;
    node.title = "This kind of button does nothing in the sandbox";
    return node;
  }
  node.addEventListener("click", () => press(message.message_id, button.callback_data, node));
  return node;
}

function timeOf(message) {
  const date = new Date(message.date * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function messageNode(message) {
  const mine = message.from && !message.from.is_bot;
  const row = el("div", `row ${mine ? "out" : "in"}`);
  row.dataset.id = String(message.message_id);
  const bubble = el("div", "bubble");
  if (message.reply_to_message) {
    const quoted = message.reply_to_message;
    bubble.append(el("div", "reply-quote", quoted.text || quoted.caption || "Media"));
  }
  const media = mediaNode(message);
  if (media) bubble.append(media);
  const text = message.text ?? message.caption;
  if (text) bubble.append(formatted(text, message.entities || message.caption_entities));
  const meta = el("div", "meta", `${message.edit_date ? "edited " : ""}${timeOf(message)}`);
  bubble.append(meta);
  row.append(bubble);
  const keyboard = keyboardNode(message);
  if (keyboard) row.append(keyboard);
  return row;
}

// The chat follows new messages while the reader is at the bottom (as Telegram does),
// also when a photo loads or a keyboard appears later; scrolled up, it stays put.
function nearBottom() {
  const chat = $("chat");
  return chat.scrollHeight - chat.scrollTop - chat.clientHeight < 120;
}

function scrollDown() {
  const chat = $("chat");
  chat.scrollTop = chat.scrollHeight;
  state.stuck = true;
}

function follow() {
  if (state.stuck) scrollDown();
}

function upsert(message) {
  const chat = $("chat");
  const stick = state.stuck || (message.from && !message.from.is_bot);
  const node = messageNode(message);
  const old = chat.querySelector(`.row[data-id="${message.message_id}"]`);
  if (old) old.replaceWith(node);
  else {
    const later = [...chat.querySelectorAll(".row")].find(
      (r) => Number(r.dataset.id) > message.message_id,
    );
    chat.insertBefore(node, later || null);
  }
  if (!old) setTyping(false); // a new message ends "typing…", as in Telegram
  refreshEmpty();
  if (stick) scrollDown();
}

function remove(messageId) {
  const node = $("chat").querySelector(`.row[data-id="${messageId}"]`);
  if (node) node.remove();
  refreshEmpty();
}

function refreshEmpty() {
  const hasMessages = !!$("chat").querySelector(".row");
  const user = state.user;
  $("empty").hidden = hasMessages;
  $("empty-hint").textContent = user
    ? "Press Start below: the bot gets /start, as from a new Telegram user."
    : "Pick or create a Telegram user first.";
  $("start-bar").hidden = !user || user.started || hasMessages;
  $("composer").hidden = !user || !$("start-bar").hidden;
  $("blocked-bar").hidden = !user || !user.blocked;
}

// ---- live feed ----------------------------------------------------------------------
function connect(userId) {
  if (state.source) state.source.close();
  const source = new EventSource(`/sandbox/api/users/${userId}/events`);
  state.source = source;
  source.onmessage = (event) => handle(JSON.parse(event.data));
  source.onopen = () => setStatus("bot");
  source.onerror = async () => {
    setStatus("connecting…");
    if (source.readyState !== EventSource.CLOSED) return;
    const current = await loadState().catch(() => null);
    if (current && !current.users.some((u) => u.id === userId)) openUsers(current);
  };
}

function handle(event) {
  switch (event.type) {
    case "snapshot":
      state.bot = event.bot;
      state.user = event.user;
      state.commands = event.commands || [];
      for (const row of $("chat").querySelectorAll(".row")) row.remove();
      for (const message of event.messages) upsert(message);
      setKeyboard(event.keyboard);
      renderPeople();
      scrollDown();
      break;
    case "message":
    case "edit":
      if (event.message.from && !event.message.from.is_bot) state.user.started = true;
      upsert(event.message);
      break;
    case "delete":
      remove(event.message_id);
      break;
    case "keyboard":
      setKeyboard(event.keyboard);
      break;
    case "callback_answer":
      answered(event);
      break;
    case "chat_action":
      setTyping(event.action);
      break;
    case "blocked":
      state.user.blocked = event.blocked;
      renderPeople();
      break;
  }
}

function setStatus(text) {
  $("bot-status").textContent = text;
}

function setTyping(action) {
  clearTimeout(state.typingTimer);
  if (!action) return setStatus("bot");
  const words = { typing: "typing…", upload_photo: "sending a photo…" };
  setStatus(words[action] || "sending a file…");
  // Telegram shows an action for five seconds, or until a message arrives.
  state.typingTimer = setTimeout(() => setStatus("bot"), 5000);
}

function answered(event) {
  const button = state.pending.get(event.callback_query_id);
  state.pending.delete(event.callback_query_id);
  if (button) button.classList.remove("pending");
  if (!event.text) return;
  if (event.show_alert) alertBox(event.text);
  else toast(event.text);
}

// ---- acting as the user -------------------------------------------------------------
async function sendText(text) {
  if (!state.user || !text.trim()) return;
  try {
    const message = await post(`users/${state.user.id}/messages`, { text });
    state.user.started = true;
    state.user.blocked = false;
    upsert(message);
    renderPeople();
  } catch (error) {
    toast(error.message);
  }
}

async function openWebApp(messageId, url) {
  if (!state.user) return;
  try {
    const opened = await post(`users/${state.user.id}/webapp`, { message_id: messageId, url });
    window.open(opened.url, "_blank", "noopener");
  } catch (error) {
    toast(error.message);
  }
}

async function press(messageId, data, button) {
  if (!state.user || button.classList.contains("pending")) return;
  button.classList.add("pending");
  try {
    const { callback_query_id: id } = await post(`users/${state.user.id}/press`, {
      message_id: messageId,
      data,
    });
    state.pending.set(id, button);
    // Telegram's app stops waiting for the bot's answer after a while, and so do we.
    setTimeout(() => button.classList.remove("pending"), 15000);
  } catch (error) {
    button.classList.remove("pending");
    toast(error.message);
  }
}

function setKeyboard(keyboard) {
  state.keyboard = keyboard;
  requestAnimationFrame(follow);
  const box = $("reply-keyboard");
  box.replaceChildren();
  box.hidden = !keyboard;
  $("text").placeholder = (keyboard && keyboard.input_field_placeholder) || "Message";
  if (!keyboard) return;
  for (const row of keyboard.keyboard) {
    const line = el("div", "reply-row");
    for (const button of row) {
      const node = el("button", "reply-button", button.text);
      node.type = "button";
      node.addEventListener("click", () => {
        if (keyboard.one_time_keyboard) box.hidden = true;
        if (button.request_contact) shareContact();
        else sendText(button.text);
      });
      line.append(node);
    }
    box.append(line);
  }
}

// A request_contact button sends the account's own number; a sandbox user is asked for
// one the first time, and keeps it (as a Telegram account does).
async function shareContact() {
  if (!state.user) return;
  const phone =
    state.user.phone_number || window.prompt("The phone number of this Telegram account", "+");
  if (!phone) return;
  try {
    const message = await post(`users/${state.user.id}/contact`, { phone_number: phone });
    state.user.phone_number = message.contact.phone_number;
    upsert(message);
  } catch (error) {
    toast(error.message);
  }
}

function toggleCommands(show) {
  const box = $("commands");
  const visible = show ?? box.hidden;
  box.replaceChildren();
  for (const command of state.commands) {
    const item = el("button", "command-item");
    item.type = "button";
    item.append(el("span", "command-name", `/${command.command}`));
    item.append(el("span", "command-description", command.description));
    item.addEventListener("click", () => {
      toggleCommands(false);
      sendText(`/${command.command}`);
    });
    box.append(item);
  }
  if (!state.commands.length) box.append(el("div", "command-none", "The bot set no commands."));
  box.hidden = !visible;
  $("menu-button").setAttribute("aria-expanded", String(visible));
}

// ---- people -------------------------------------------------------------------------
function renderPeople() {
  const bot = state.bot;
  if (bot) {
    $("bot-name").textContent = bot.first_name;
    $("bot-avatar").textContent = initial(bot.first_name);
    document.title = `Sandbox · @${bot.username}`;
  }
  const user = state.user;
  $("me-name").textContent = user ? user.first_name : "choose…";
  $("me-avatar").textContent = user ? initial(user.first_name) : "?";
  $("me-avatar").dataset.color = user ? String(user.id % 7) : "";
  refreshEmpty();
}

function select(userId) {
  history.replaceState(null, "", `/sandbox?user=${userId}`);
  state.user = null;
  state.pending.clear();
  for (const row of $("chat").querySelectorAll(".row")) row.remove();
  setKeyboard(null);
  $("users-dialog").close();
  connect(userId);
}

function describe(user) {
  const parts = [user.username ? `@${user.username}` : "no username", user.language_code];
  if (user.blocked) parts.push("blocked the bot");
  return parts.join(" · ");
}

async function openUsers(known) {
  const current = known || (await loadState());
  const list = $("user-list");
  list.replaceChildren();
  for (const user of current.users) {
    const item = el("li");
    const button = el("button", "user-item");
    button.type = "button";
    const avatar = el("span", "avatar", initial(user.first_name));
    avatar.dataset.color = String(user.id % 7);
    const about = el("span", "user-about");
    about.append(el("span", "user-name", user.first_name), el("span", "user-meta", describe(user)));
    button.append(avatar, about);
    if (state.user && state.user.id === user.id) button.classList.add("current");
    button.addEventListener("click", () => select(user.id));
    item.append(button);
    list.append(item);
  }
  $("block-toggle").hidden = !state.user;
  $("block-name").textContent = state.user ? state.user.first_name : "";
  $("blocked").checked = !!(state.user && state.user.blocked);
  if (!$("users-dialog").open) $("users-dialog").showModal();
}

function browserLanguage() {
  return (navigator.language || "ru").toLowerCase().startsWith("en") ? "en" : "ru";
}

// ---- wiring -------------------------------------------------------------------------
function wire() {
  $("chat").addEventListener("scroll", () => (state.stuck = nearBottom()), { passive: true });
  new ResizeObserver(follow).observe($("chat"));
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value;
    $("text").value = "";
    $("text").style.height = "";
    sendText(text);
  });
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("text").addEventListener("input", () => {
    const area = $("text");
    area.style.height = "";
    area.style.height = `${Math.min(area.scrollHeight, 160)}px`;
  });
  $("start-button").addEventListener("click", () => sendText("/start"));
  $("unblock-button").addEventListener("click", () => setBlocked(false));
  $("menu-button").addEventListener("click", () => toggleCommands());
  $("me-button").addEventListener("click", () => openUsers());
  $("users-close").addEventListener("click", () => $("users-dialog").close());
  $("alert-ok").addEventListener("click", () => $("alert-dialog").close());
  $("blocked").addEventListener("change", (event) => setBlocked(event.target.checked));
  $("new-user").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      const user = await post("users", Object.fromEntries(form.entries()));
      event.target.reset();
      select(user.id);
    } catch (error) {
      toast(error.message);
    }
  });
  const langInput = document.querySelector(`input[name=language_code][value=${browserLanguage()}]`);
  if (langInput) langInput.checked = true;
}

async function setBlocked(blocked) {
  if (!state.user) return;
  try {
    state.user = await post(`users/${state.user.id}/block`, { blocked });
    renderPeople();
  } catch (error) {
    toast(error.message);
  }
}

async function boot() {
  wire();
  const current = await loadState();
  state.bot = current.bot;
  $("form-link").href = current.form_url;
  renderPeople();
  const params = new URLSearchParams(location.search);
  const wanted = Number(params.get("user"));
  if (params.has("start")) {
    // Arrived by a deep link (the registration thank-you page): a new user opens the bot.
    try {
      const opened = await post("open", {
        payload: params.get("start"),
        language_code: browserLanguage(),
      });
      select(opened.user.id);
    } catch (error) {
      toast(error.message);
    }
  } else if (current.users.some((u) => u.id === wanted)) {
    select(wanted);
  } else {
    openUsers(current);
  }
}

boot();
