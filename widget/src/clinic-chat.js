// The clinic's chat widget. Built into dist/clinic-chat.js by build.mjs, which provides `io`
// (socket.io-client) and CLINIC_CHAT_CSS. Talks to the assistant's `webchat` channel
// (channels/webchat.py). Everything said is health information: the transcript lives only in
// this tab's sessionStorage (gone when the browser session ends), never in localStorage.

var STORE_KEY = "clinicChat:v1";
var CONFIG_KEY = "clinicChat:config";
var TAB_CHANNEL = "clinic-chat";
var MAX_CHARS = 1000;
var TYPING_TIMEOUT_MS = 30000;
var HANDOFF_PAYLOAD = "/human_handoff";

var script = document.currentScript;
var options = window.ClinicChatConfig || {};
var serverUrl = String(options.serverUrl || (script && script.src ? new URL(script.src, location.href).origin : location.origin)).replace(/\/+$/, "");

// ---- State (sessionStorage) -------------------------------------------------------------

function emptyState() {
  return { sessionId: null, messages: [], queue: [], open: false };
}

function loadState() {
  try {
    var saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
    if (saved && Array.isArray(saved.messages)) {
      saved.queue = Array.isArray(saved.queue) ? saved.queue : [];
      return saved;
    }
  } catch (error) { /* unreadable: start again */ }
  return emptyState();
}

var state = loadState();

function saveState() {
  try {
    sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
  } catch (error) { /* storage full or blocked: the conversation still works in the page */ }
}

function clinic() {
  var cached = {};
  try { cached = JSON.parse(sessionStorage.getItem(CONFIG_KEY) || "{}"); } catch (error) { cached = {}; }
  return {
    name: options.clinicName || cached.clinic_name || "the clinic",
    phone: options.phone || cached.phone || null,
  };
}

// ---- Elements ---------------------------------------------------------------------------

function el(tag, attributes, children) {
  var node = document.createElement(tag);
  Object.keys(attributes || {}).forEach(function (name) {
    if (name === "text") node.textContent = attributes[name];
    else if (name === "hidden") node.hidden = attributes[name];
    else node.setAttribute(name, attributes[name]);
  });
  (children || []).forEach(function (child) {
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  });
  return node;
}

function telHref(number) {
  return "tel:" + number.replace(/[^\d+]/g, "");
}

// URLs, e-mail addresses and phone numbers in a bot message become links; everything else is
// text nodes, so nothing a message contains is ever read as HTML.
var LINKS = /(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'])|([\w.+-]+@[\w-]+(?:\.[\w-]+)+)|(\(\d{3}\)\s?\d{3}-\d{4}|\b\d{3}-\d{3}-\d{4}\b|\b(?:988|911)\b)/g;

function linkified(text) {
  var fragment = document.createDocumentFragment();
  var last = 0;
  text.replace(LINKS, function (match, url, email, phone, offset) {
    fragment.appendChild(document.createTextNode(text.slice(last, offset)));
    var href = url ? match : email ? "mailto:" + match : telHref(match);
    var link = el("a", { href: href, text: match });
    if (url) { link.target = "_blank"; link.rel = "noopener noreferrer"; }
    fragment.appendChild(link);
    last = offset + match.length;
    return match;
  });
  fragment.appendChild(document.createTextNode(text.slice(last)));
  return fragment;
}

var host = el("div", { "data-clinic-chat": "" });
var root = host.attachShadow({ mode: "open" });
root.appendChild(el("style", { text: CLINIC_CHAT_CSS }));
if (options.colors && options.colors.primary) host.style.setProperty("--cc-primary", options.colors.primary);
if (options.colors && options.colors.onPrimary) host.style.setProperty("--cc-on-primary", options.colors.onPrimary);

var launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "cc-panel" },
  [el("span", { class: "launcher-icon", "aria-hidden": "true", text: "💬" }), el("span", { text: "Chat with us" })]);
var title = el("h2", { id: "cc-title" });
var closeButton = el("button", { class: "close", type: "button", "aria-label": "Close chat" }, [el("span", { "aria-hidden": "true", text: "×" })]);
var crisisLine = el("p", { class: "crisis" }, [
  "In crisis? ", el("a", { href: "tel:988", text: "Call" }), " or ", el("a", { href: "sms:988", text: "text" }),
  " 988, any time.",
]);
var status = el("div", { class: "status", role: "status" });
var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
var typing = el("div", { class: "typing", hidden: true }, [
  el("span", { class: "dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]),
  el("span", { class: "visually-hidden", text: "The assistant is typing…" }),
]);
var input = el("textarea", { id: "cc-input", rows: "2", maxlength: String(MAX_CHARS + 1), autocomplete: "off" });
var sendButton = el("button", { type: "submit", class: "send", text: "Send" });
var composer = el("form", { class: "composer" }, [
  el("label", { for: "cc-input", class: "visually-hidden", text: "Your message" }), input, sendButton,
]);
var handoffButton = el("button", { type: "button", class: "secondary", text: "Talk to a person" });
var clearButton = el("button", { type: "button", class: "secondary", text: "Clear conversation" });
var confirmYes = el("button", { type: "button", class: "danger", text: "Yes, clear it" });
var confirmNo = el("button", { type: "button", class: "secondary", text: "Keep it" });
var confirmBox = el("div", { class: "confirm", hidden: true, role: "group", "aria-label": "Clear conversation?" }, [
  el("p", { text: "Clear this conversation from this browser?" }), confirmYes, confirmNo,
]);
var panel = el("section", { id: "cc-panel", class: "panel", role: "dialog", "aria-labelledby": "cc-title", hidden: true }, [
  el("div", { class: "header" }, [
    el("div", { class: "heading" }, [title, el("p", { class: "subtitle", text: "Automated assistant · not medical advice" })]),
    closeButton, crisisLine,
  ]),
  status, log, typing, composer,
  el("div", { class: "footer" }, [el("div", { class: "actions" }, [handoffButton, clearButton]), confirmBox]),
]);
root.appendChild(launcher);
root.appendChild(panel);

function renderClinic() {
  var details = clinic();
  title.textContent = "Chat with " + details.name;
  launcher.setAttribute("aria-label", "Chat with " + details.name);
  renderStatus();
}

// ---- Messages ---------------------------------------------------------------------------

function timeOf(ts) {
  var date = new Date(ts);
  return el("time", { datetime: date.toISOString(), text: date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) });
}

function renderMessage(message, index) {
  var who = message.from === "user" ? "You" : message.from === "bot" ? "Assistant" : "Notice";
  var bubble = el("div", { class: "bubble" });
  bubble.appendChild(message.from === "bot" ? linkified(message.text) : document.createTextNode(message.text));
  var item = el("div", { class: "message " + message.from }, [
    el("span", { class: "visually-hidden", text: who + ": " }), bubble, timeOf(message.ts),
  ]);
  if (message.quickReplies && message.quickReplies.length) {
    var group = el("div", { class: "quick-replies", role: "group", "aria-label": "Suggested replies" });
    message.quickReplies.forEach(function (reply) {
      var button = el("button", { type: "button", class: "quick-reply", text: reply.title });
      button.disabled = Boolean(message.used) || index !== state.messages.length - 1;
      button.addEventListener("click", function () {
        message.used = true;
        send(reply.payload, reply.title);
      });
      group.appendChild(button);
    });
    item.appendChild(group);
  }
  return item;
}

function renderLog() {
  log.textContent = "";
  state.messages.forEach(function (message, index) { log.appendChild(renderMessage(message, index)); });
  log.scrollTop = log.scrollHeight;
}

function addMessage(message) {
  message.ts = message.ts || Date.now();
  state.messages.push(message);
  saveState();
  renderLog();
}

function setTyping(on) {
  clearTimeout(setTyping.timer);
  typing.hidden = !on;
  if (on) setTyping.timer = setTimeout(function () { typing.hidden = true; }, TYPING_TIMEOUT_MS);
}

// ---- Connection -------------------------------------------------------------------------

var socket = null;
var confirmed = false;
var lastSent = null;

function renderStatus() {
  var offline = socket !== null && !confirmed && status.dataset.down === "1";
  status.textContent = "";
  status.hidden = !offline;
  if (!offline) return;
  var phone = clinic().phone;
  status.appendChild(document.createTextNode("Can't reach the assistant right now. Retrying… "));
  if (phone) {
    status.appendChild(document.createTextNode("If you need the clinic now, call "));
    status.appendChild(el("a", { href: telHref(phone), text: phone }));
    status.appendChild(document.createTextNode("."));
  } else {
    status.appendChild(document.createTextNode("If you need the clinic now, call the clinic."));
  }
  if (state.queue.length) {
    status.appendChild(document.createTextNode(" Your message will be sent when the connection is back."));
  }
}

function markDown(down) {
  status.dataset.down = down ? "1" : "0";
  renderStatus();
}

function connect() {
  if (socket) return;
  socket = io(serverUrl, { transports: ["websocket", "polling"], reconnectionDelayMax: 10000 });
  socket.on("connect", function () {
    socket.emit("session_request", { session_id: state.sessionId });
  });
  socket.on("session_confirm", function (sessionId) {
    state.sessionId = sessionId;
    confirmed = true;
    saveState();
    markDown(false);
    flushQueue();
  });
  socket.on("connect_error", function () { confirmed = false; markDown(true); });
  socket.on("disconnect", function () { confirmed = false; markDown(true); });
  socket.on("bot_uttered", function (message) {
    if (!message || typeof message !== "object") return;
    var text = typeof message.text === "string" ? message.text : "";
    if (!text && message.attachment && message.attachment.payload && message.attachment.payload.src) {
      text = String(message.attachment.payload.src);
    }
    if (!text) return;
    addMessage({ from: "bot", text: text, quickReplies: (message.quick_replies || []).filter(function (r) {
      return r && typeof r.title === "string" && typeof r.payload === "string";
    }) });
  });
  socket.on("bot_done", function () { setTyping(false); });
  socket.on("user_echo", function (echo) {
    if (echo && typeof echo.text === "string") addMessage({ from: "user", text: displayed(echo.text), ts: echo.ts * 1000 });
  });
  socket.on("error_message", function (error) {
    if (!error || typeof error.text !== "string") return;
    setTyping(false);
    addMessage({ from: "notice", text: error.text });
    if ((error.code === "too_long" || error.code === "no_session") && lastSent && !input.value) {
      input.value = lastSent;
    }
  });
}

// What a payload looks like to the user: a quick reply's title, not "/human_handoff".
function displayed(text) {
  if (text === HANDOFF_PAYLOAD) return "Talk to a person";
  for (var i = state.messages.length - 1; i >= 0; i--) {
    var replies = state.messages[i].quickReplies || [];
    for (var j = 0; j < replies.length; j++) if (replies[j].payload === text) return replies[j].title;
  }
  return text;
}

function emit(text) {
  lastSent = text;
  setTyping(true);
  socket.emit("user_uttered", { session_id: state.sessionId, message: text });
}

function flushQueue() {
  var queued = state.queue.splice(0);
  saveState();
  queued.forEach(emit);
  renderStatus();
}

function send(text, shownAs) {
  text = String(text).trim();
  if (!text) return;
  addMessage({ from: "user", text: shownAs || text });
  connect();
  if (confirmed && socket.connected) {
    emit(text);
  } else {
    state.queue.push(text);
    saveState();
    renderStatus();
  }
}

// ---- Tabs: a second tab continues the conversation of an open one --------------------------

var tabs = typeof BroadcastChannel === "function" ? new BroadcastChannel(TAB_CHANNEL) : null;
if (tabs) {
  tabs.onmessage = function (event) {
    var data = event.data || {};
    if (data.type === "hello" && state.sessionId) {
      tabs.postMessage({ type: "state", sessionId: state.sessionId, messages: state.messages });
    } else if (data.type === "state" && !state.sessionId && data.sessionId) {
      state.sessionId = data.sessionId;
      state.messages = data.messages || [];
      saveState();
      renderLog();
      if (socket) { socket.disconnect().connect(); } else { connect(); }
    } else if (data.type === "clear" && data.sessionId === state.sessionId) {
      reset();
    }
  };
}

// ---- Open, close, clear -------------------------------------------------------------------

function openPanel(focus) {
  panel.hidden = false;
  launcher.setAttribute("aria-expanded", "true");
  launcher.hidden = true;
  state.open = true;
  saveState();
  connect();
  renderLog();
  if (focus !== false) input.focus();
}

function closePanel() {
  panel.hidden = true;
  launcher.hidden = false;
  launcher.setAttribute("aria-expanded", "false");
  state.open = false;
  saveState();
  launcher.focus();
}

function reset() {
  var wasOpen = state.open;
  state = emptyState();
  state.open = wasOpen;
  sessionStorage.removeItem(STORE_KEY);
  saveState();
  confirmBox.hidden = true;
  setTyping(false);
  renderLog();
  if (socket) {
    confirmed = false;
    socket.disconnect().connect();  // a new socket: no longer in the old conversation's room
  }
}

launcher.addEventListener("click", function () { openPanel(); });
closeButton.addEventListener("click", closePanel);
panel.addEventListener("keydown", function (event) {
  if (event.key === "Escape") { event.preventDefault(); closePanel(); }
});
composer.addEventListener("submit", function (event) {
  event.preventDefault();
  var text = input.value;
  if (!text.trim()) return;
  input.value = "";
  send(text);
  input.focus();
});
input.addEventListener("keydown", function (event) {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit"));
  }
});
handoffButton.addEventListener("click", function () { send(HANDOFF_PAYLOAD, "Talk to a person"); });
clearButton.addEventListener("click", function () { confirmBox.hidden = false; confirmNo.focus(); });
confirmNo.addEventListener("click", function () { confirmBox.hidden = true; clearButton.focus(); });
confirmYes.addEventListener("click", function () {
  if (tabs && state.sessionId) tabs.postMessage({ type: "clear", sessionId: state.sessionId });
  reset();
  input.focus();
});

// ---- Start --------------------------------------------------------------------------------

function start() {
  document.body.appendChild(host);
  renderClinic();
  renderLog();
  if (!options.clinicName || !options.phone) {
    fetch(serverUrl + "/webhooks/webchat/config").then(function (reply) {
      return reply.ok ? reply.json() : null;
    }).then(function (details) {
      if (details) { sessionStorage.setItem(CONFIG_KEY, JSON.stringify(details)); renderClinic(); }
    }).catch(function () { /* offline: the banner says so when the chat is used */ });
  }
  if (state.sessionId || state.queue.length) connect();
  else if (tabs) tabs.postMessage({ type: "hello" });
  if (state.open) openPanel(false);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
