// The clinic's chat widget. Built into dist/clinic-chat.js by build.mjs, which provides `io`
// (socket.io-client) and CLINIC_CHAT_CSS. Talks to the assistant's `webchat` channel
// (channels/webchat.py). Everything said is health information: the transcript lives only in
// this tab's sessionStorage (gone when the browser session ends), never in localStorage or
// cookies. Every message is put on the page as text nodes, never parsed as HTML. What the chat
// says before anyone has written (a greeting, questions to start with) comes from the server's
// config, like the clinic's name: no words of the conversation are written here.

var STORE_KEY = "clinicChat:v1";
var CONFIG_KEY = "clinicChat:config";
var TAB_CHANNEL = "clinic-chat";
var TYPING_TIMEOUT_MS = 30000;
var HANDOFF = { payload: "/human_handoff", title: "Talk to a person" };
var RESTORED_ON = { too_long: true, no_session: true };  // error codes that give the text back

var script = document.currentScript;
var options = window.ClinicChatConfig || {};
var serverUrl = String(
  options.serverUrl || (script && script.src ? new URL(script.src, location.href).origin : location.origin)
).replace(/\/+$/, "");

// ---- Storage: sessionStorage only; when it is blocked the chat still works in the page ------

function readStored(key) {
  try { return JSON.parse(sessionStorage.getItem(key) || "null"); } catch (error) { return null; }
}

function writeStored(key, value) {
  try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (error) { /* full or blocked */ }
}

function removeStored(key) {
  try { sessionStorage.removeItem(key); } catch (error) { /* blocked */ }
}

// messages: {from: "user"|"bot"|"notice", text, ts, quickReplies?, used?}; queue: texts typed
// while offline, sent on reconnect.
function emptyState() {
  return { sessionId: null, messages: [], queue: [], open: false };
}

function loadState() {
  var saved = readStored(STORE_KEY);
  if (saved && Array.isArray(saved.messages)) {
    saved.queue = Array.isArray(saved.queue) ? saved.queue : [];
    return saved;
  }
  return emptyState();
}

var state = loadState();

function saveState() {
  writeStored(STORE_KEY, state);
}

var MAX_SUGGESTIONS = 4;

function clinic() {
  var fetched = readStored(CONFIG_KEY) || {};
  var suggestions = Array.isArray(fetched.suggestions) ? fetched.suggestions : [];
  return {
    name: options.clinicName || fetched.clinic_name || "the clinic",
    phone: options.phone || fetched.phone || null,
    greeting: typeof fetched.greeting === "string" && fetched.greeting.trim() ? fetched.greeting : null,
    suggestions: suggestions.filter(function (question) {
      return typeof question === "string" && question.trim();
    }).slice(0, MAX_SUGGESTIONS),
  };
}

// ---- Colours: a clinic's brand colours, with readable text on them ---------------------------

function luminance(hex) {
  var match = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(hex).trim());
  if (!match) return null;
  var digits = match[1].length === 3 ? match[1].replace(/./g, "$&$&") : match[1];
  var channels = [0, 2, 4].map(function (at) {
    var value = parseInt(digits.slice(at, at + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : Math.pow((value + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
}

function contrast(a, b) {
  var la = luminance(a), lb = luminance(b);
  if (la === null || lb === null) return null;
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

function applyColors(host) {
  var colors = options.colors || {};
  var primary = colors.primary, onPrimary = colors.onPrimary;
  if (!primary) return;
  if (!onPrimary) onPrimary = (contrast(primary, "#ffffff") || 21) >= (contrast(primary, "#111111") || 0) ? "#ffffff" : "#111111";
  host.style.setProperty("--cc-primary", primary);
  host.style.setProperty("--cc-on-primary", onPrimary);
  // The primary colour is also the colour of links and buttons on white.
  [[onPrimary, "colors.onPrimary on colors.primary"], ["#ffffff", "colors.primary on white"]].forEach(function (pair) {
    var ratio = contrast(primary, pair[0]);
    if (ratio !== null && ratio < 4.5) {
      console.warn("Clinic chat: " + pair[1] + " has a contrast of " + ratio.toFixed(2) + ":1, below the 4.5:1 WCAG AA needs");
    }
  });
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
  var dialled = number.replace(/[^\d+]/g, "");
  return "tel:" + (/^\d{10}$/.test(dialled) ? "+1" + dialled : dialled);  // (555) 010-0199: a NANP number
}

// URLs, e-mail addresses and phone numbers in a bot message become links; everything else is
// text nodes, so nothing a message contains is ever read as HTML.
var LINKS = /(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'])|([\w.+-]+@[\w-]+(?:\.[\w-]+)+)|(\(\d{3}\)\s?\d{3}-\d{4}|\b\d{3}-\d{3}-\d{4}\b|\+1\d{10}\b|\b(?:988|911)\b)/g;

function linkified(text) {
  var fragment = document.createDocumentFragment();
  var last = 0;
  text.replace(LINKS, function (match, url, email, phone, offset) {
    fragment.appendChild(document.createTextNode(text.slice(last, offset)));
    var link = el("a", { href: url ? match : email ? "mailto:" + match : telHref(match), text: match });
    if (url) { link.target = "_blank"; link.rel = "noopener noreferrer"; }
    fragment.appendChild(link);
    last = offset + match.length;
    return match;
  });
  fragment.appendChild(document.createTextNode(text.slice(last)));
  return fragment;
}

function pad(number) {
  return (number < 10 ? "0" : "") + number;
}

function timeOf(ts) {
  var date = new Date(ts);
  return el("time", { datetime: date.toISOString(), text: pad(date.getHours()) + ":" + pad(date.getMinutes()) });
}

// Drawn, not an emoji: a computer without an emoji font would show an empty box.
function bubbleIcon() {
  var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "launcher-icon");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  path.setAttribute("fill", "currentColor");
  svg.appendChild(path);
  return svg;
}

// A custom element name, so no `div { … }` rule of the page matches the host.
var host = el("clinic-chat", { "data-clinic-chat": "" });
var root = host.attachShadow({ mode: "open" });
root.appendChild(el("style", { text: CLINIC_CHAT_CSS }));
applyColors(host);

var launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "cc-panel" }, [
  bubbleIcon(), el("span", { text: "Chat" }),
]);
var title = el("h2", { id: "cc-title" });
var closeButton = el("button", { class: "close", type: "button", "aria-label": "Close chat" }, [el("span", { "aria-hidden": "true", text: "×" })]);
var crisisLine = el("p", { class: "crisis" }, [
  "In crisis? ", el("a", { href: "tel:988", "aria-label": "Call 988", text: "Call" }), " or ",
  el("a", { href: "sms:988", "aria-label": "Text 988", text: "text" }), " 988, any time.",
]);
var status = el("div", { class: "status", role: "status", hidden: true });
// Shown while the conversation is empty; not part of it (never stored, not in the log).
var greetingText = el("p", { id: "cc-greeting", class: "greeting" });
var suggestionList = el("div", { class: "suggestions", role: "group", "aria-label": "Suggested questions" });
var welcome = el("div", { class: "welcome", hidden: true }, [greetingText, suggestionList]);
var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
var typing = el("div", { class: "typing", "aria-live": "polite" });
var input = el("textarea", { id: "cc-input", rows: "2", autocomplete: "off" });
var sendButton = el("button", { type: "submit", class: "send", text: "Send" });
var composer = el("form", { class: "composer" }, [
  el("label", { for: "cc-input", class: "visually-hidden", text: "Your message" }), input, sendButton,
]);
var handoffButton = el("button", { type: "button", class: "secondary", text: HANDOFF.title });
var clearButton = el("button", { type: "button", class: "secondary", text: "Clear conversation" });
var confirmYes = el("button", { type: "button", class: "danger", text: "Yes, clear it" });
var confirmNo = el("button", { type: "button", class: "secondary", text: "Keep it" });
var confirmBox = el("div", { class: "confirm", hidden: true, role: "group", "aria-labelledby": "cc-confirm" }, [
  el("p", { id: "cc-confirm", text: "Clear this conversation from this browser?" }), confirmYes, confirmNo,
]);
var panel = el("section", { id: "cc-panel", class: "panel", role: "dialog", "aria-labelledby": "cc-title", hidden: true }, [
  el("div", { class: "header" }, [
    el("div", { class: "heading" }, [title, el("p", { class: "subtitle", text: "Automated assistant · not medical advice" })]),
    closeButton, crisisLine,
  ]),
  status, welcome, log, typing, composer,
  el("div", { class: "footer" }, [el("div", { class: "actions" }, [handoffButton, clearButton]), confirmBox]),
]);
root.appendChild(launcher);
root.appendChild(panel);

function renderClinic() {
  var name = clinic().name;
  title.textContent = "Chat with " + name;
  launcher.setAttribute("aria-label", "Chat with " + name);
  renderStatus();
  renderWelcome();
}

// ---- Welcome: the greeting and questions to start with, while the conversation is empty ----
// It is not a live region: a screen reader hears the greeting as the dialog's description when
// the chat opens, once, and not again each time the welcome is drawn or redrawn.

var welcomeShown = null;  // the greeting and suggestions on the page, to rebuild only a change

function renderWelcome() {
  var details = clinic();
  var drawn = JSON.stringify([details.greeting, details.suggestions]);
  if (drawn !== welcomeShown) {
    welcomeShown = drawn;
    greetingText.textContent = "";
    if (details.greeting) greetingText.appendChild(linkified(details.greeting));
    suggestionList.textContent = "";
    details.suggestions.forEach(function (question) {
      var button = el("button", { type: "button", class: "suggestion", text: question });
      button.addEventListener("click", function () {
        send(question);
        input.focus();  // the button is gone with the welcome
      });
      suggestionList.appendChild(button);
    });
  }
  greetingText.hidden = !details.greeting;
  suggestionList.hidden = !details.suggestions.length;
  welcome.hidden = state.messages.length > 0 || (greetingText.hidden && suggestionList.hidden);
  if (!welcome.hidden && !greetingText.hidden) panel.setAttribute("aria-describedby", "cc-greeting");
  else panel.removeAttribute("aria-describedby");
}

// ---- Messages: appended one by one, so a screen reader hears only what is new ----------------

function messageNode(message) {
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

// Only the newest message's quick replies can be used, and only once.
function refreshQuickReplies() {
  var items = log.children;
  for (var i = 0; i < items.length; i++) {
    var message = state.messages[i];
    var off = !message || Boolean(message.used) || i !== state.messages.length - 1;
    items[i].querySelectorAll(".quick-reply").forEach(function (button) { button.disabled = off; });
  }
}

function scrollToEnd() {
  log.scrollTop = log.scrollHeight;
}

function renderLog() {
  log.textContent = "";
  state.messages.forEach(function (message) { log.appendChild(messageNode(message)); });
  refreshQuickReplies();
  renderWelcome();
  scrollToEnd();
}

function addMessage(message) {
  message.ts = message.ts || Date.now();
  state.messages.push(message);
  saveState();
  log.appendChild(messageNode(message));
  refreshQuickReplies();
  renderWelcome();
  scrollToEnd();
}

// A refused message leaves the transcript and goes back to the input box.
function giveBack(text) {
  for (var i = state.messages.length - 1; i >= 0; i--) {
    if (state.messages[i].from === "user" && state.messages[i].text === text) {
      state.messages.splice(i, 1);
      break;
    }
  }
  saveState();
  renderLog();
  input.value = input.value ? text + "\n" + input.value : text;
}

var typingTimer = null;

function setTyping(on) {
  clearTimeout(typingTimer);
  typing.textContent = "";
  if (!on) return;
  typing.appendChild(el("span", { class: "dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")]));
  typing.appendChild(el("span", { class: "visually-hidden", text: "The assistant is typing…" }));
  typingTimer = setTimeout(function () { setTyping(false); }, TYPING_TIMEOUT_MS);
}

// ---- Connection -------------------------------------------------------------------------

var socket = null;
var confirmed = false;   // the server has confirmed this socket's session
var unreachable = false; // the last attempt to reach the server failed
var lastSent = null;

function renderStatus() {
  status.textContent = "";
  status.hidden = !unreachable;
  if (!unreachable) return;
  var phone = clinic().phone;
  status.appendChild(document.createTextNode("Can't reach the assistant right now. Retrying… If you need the clinic now, call "));
  status.appendChild(phone ? el("a", { href: telHref(phone), text: phone }) : document.createTextNode("the clinic"));
  status.appendChild(document.createTextNode("."));
  if (state.queue.length) {
    status.appendChild(document.createTextNode(" Your message will be sent when the connection is back."));
  }
}

function setUnreachable(value) {
  unreachable = value;
  renderStatus();
}

function connect() {
  if (socket) {
    if (!socket.connected && !socket.active) socket.connect();  // after a clear from another tab
    return;
  }
  socket = io(serverUrl, { transports: ["websocket", "polling"], reconnectionDelayMax: 10000 });
  socket.on("connect", function () {
    socket.emit("session_request", { session_id: state.sessionId });
  });
  socket.on("session_confirm", function (sessionId) {
    var isNew = sessionId !== state.sessionId;
    state.sessionId = sessionId;
    confirmed = true;
    saveState();
    setUnreachable(false);
    if (isNew) announceSession();
    flushQueue();
  });
  socket.on("connect_error", function () { confirmed = false; setUnreachable(true); });
  socket.on("disconnect", function (reason) {
    confirmed = false;
    if (reason === "io client disconnect") return;  // on purpose: a clear or an adopted session
    setUnreachable(true);
    if (reason === "io server disconnect") socket.connect();  // socket.io would not retry itself
  });
  socket.on("bot_uttered", function (message) {
    if (!message || typeof message !== "object") return;
    var text = typeof message.text === "string" ? message.text : "";
    var attachment = message.attachment;
    if (!text && attachment && attachment.payload && typeof attachment.payload.src === "string") {
      text = attachment.payload.src;  // an image or file: its address, as a link
    }
    if (!text) return;  // {custom: …} and kinds this widget does not know
    var replies = Array.isArray(message.quick_replies) ? message.quick_replies : [];
    addMessage({ from: "bot", text: text, quickReplies: replies.filter(function (reply) {
      return reply && typeof reply.title === "string" && typeof reply.payload === "string";
    }) });
  });
  socket.on("bot_done", function () { setTyping(false); });
  socket.on("user_echo", function (echo) {
    if (!echo || typeof echo.text !== "string") return;
    addMessage({ from: "user", text: displayed(echo.text), ts: typeof echo.ts === "number" ? echo.ts * 1000 : Date.now() });
    setTyping(true);
  });
  socket.on("error_message", function (error) {
    if (!error || typeof error.text !== "string") return;
    setTyping(false);
    if (RESTORED_ON[error.code] && lastSent !== null) {
      giveBack(displayed(lastSent));
      lastSent = null;
    }
    addMessage({ from: "notice", text: error.text });
  });
}

// What a payload looks like to the user: a quick reply's title, not "/human_handoff".
function displayed(text) {
  if (text === HANDOFF.payload) return HANDOFF.title;
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
  if (socket && socket.connected && confirmed) {
    emit(text);
  } else {
    state.queue.push(text);
    saveState();
    retryNow();
    renderStatus();
  }
}

// Someone waiting for an answer should not wait out socket.io's back-off, nor wait for the tab
// that cleared the conversation to say which one comes next (it may have been closed).
function retryNow() {
  if (!socket || !socket.active) connect();
  else if (unreachable && !socket.connected) socket.disconnect().connect();
}

window.addEventListener("online", function () { if (socket && unreachable) retryNow(); });

// ---- Tabs: every open tab of this site shows the same conversation ---------------------------
// A new tab asks the open ones for theirs ("hello" → "state"); a tab that starts a session tells
// the others ("state"), and a clear clears them all ("clear").

var tabs = typeof BroadcastChannel === "function" ? new BroadcastChannel(TAB_CHANNEL) : null;

function announceSession() {
  if (tabs && state.sessionId) tabs.postMessage({ type: "state", sessionId: state.sessionId, messages: state.messages });
}

// A tab takes another's conversation when it has none of its own yet (a tab opened and used
// at once may have started an empty one before the other tab's answer came).
function welcomes(data) {
  if (state.queue.length) return false;
  return !state.sessionId || (!state.messages.length && Array.isArray(data.messages) && data.messages.length > 0);
}

function adopt(sessionId, messages) {
  state.sessionId = sessionId;
  state.messages = Array.isArray(messages) ? messages : [];
  saveState();
  renderLog();
  if (socket && socket.connected) socket.disconnect().connect();  // into the adopted session's room
  else connect();
}

if (tabs) {
  tabs.onmessage = function (event) {
    var data = event.data || {};
    if (data.type === "hello") {
      announceSession();
    } else if (data.type === "state" && typeof data.sessionId === "string" && data.sessionId !== state.sessionId && welcomes(data)) {
      adopt(data.sessionId, data.messages);
    } else if (data.type === "clear" && data.sessionId === state.sessionId) {
      reset(false);  // the clearing tab's new session arrives as "state"
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
  scrollToEnd();
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

function reset(startNewSession) {
  var wasOpen = state.open;
  state = emptyState();
  state.open = wasOpen;
  removeStored(STORE_KEY);
  saveState();
  confirmBox.hidden = true;
  lastSent = null;
  setTyping(false);
  renderLog();
  confirmed = false;
  if (socket) {
    socket.disconnect();  // out of the old conversation's room
    if (startNewSession) socket.connect();
  }
  setUnreachable(false);
}

launcher.addEventListener("click", function () { openPanel(); });
closeButton.addEventListener("click", closePanel);
panel.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") return;
  event.preventDefault();
  if (!confirmBox.hidden) { confirmBox.hidden = true; clearButton.focus(); } else closePanel();
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
    if (composer.requestSubmit) composer.requestSubmit();
    else composer.dispatchEvent(new Event("submit", { cancelable: true }));
  }
});
handoffButton.addEventListener("click", function () { send(HANDOFF.payload, HANDOFF.title); });
clearButton.addEventListener("click", function () { confirmBox.hidden = false; confirmNo.focus(); });
confirmNo.addEventListener("click", function () { confirmBox.hidden = true; clearButton.focus(); });
confirmYes.addEventListener("click", function () {
  if (tabs && state.sessionId) tabs.postMessage({ type: "clear", sessionId: state.sessionId });
  reset(true);
  input.focus();
});

// ---- Start --------------------------------------------------------------------------------

// Asked for on every start: the cached details are shown at once, and the fresh ones (a new
// greeting; one at all, where the cache is older than greetings) as soon as they come.
function fetchClinicDetails() {
  fetch(serverUrl + "/webhooks/webchat/config", { cache: "no-cache" }).then(function (reply) {
    return reply.ok ? reply.json() : null;
  }).then(function (details) {
    if (details && typeof details === "object") { writeStored(CONFIG_KEY, details); renderClinic(); }
  }).catch(function () { /* unreachable: the banner says so once the chat is used */ });
}

function start() {
  document.body.appendChild(host);
  renderClinic();
  renderLog();
  fetchClinicDetails();
  if (state.sessionId || state.queue.length) connect();
  else if (tabs) tabs.postMessage({ type: "hello" });
  if (state.open) openPanel(false);  // it was open before a reload: open, without taking focus
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
