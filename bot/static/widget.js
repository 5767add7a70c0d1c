/* Escalator chat widget: one script tag, a shadow DOM of its own, the customer protocol of docs/protocol.md.
 *
 *   <script src="https://HOST/widget.js" data-escalator-url="https://HOST" async></script>
 *
 * The host page may pass who the customer is, before or after the script loads:
 *   window.escalatorCustomer = {name: "Ada", email: "ada@example.com", attributes: {plan: "gold"}};
 */
(function () {
  "use strict";
  if (window.__escalatorWidget) return;
  window.__escalatorWidget = true;

  var script = document.currentScript || document.querySelector("script[data-escalator-url]");
  var base = (script && script.getAttribute("data-escalator-url")) || (script ? new URL(script.src).origin : location.origin);
  var socketUrl = base.replace(/^http/, "ws").replace(/\/$/, "") + "/ws/chat";
  var STORE_KEY = "escalator:" + base;
  var MAX_BACKOFF_MS = 10000;
  var TYPING_EVERY_MS = 2000;

  var saved = load();
  var state = {
    socket: null,
    open: false,
    connected: false,
    attempts: 0,
    lastSeq: 0,             // a fresh page asks for the whole transcript; reconnects ask from here
    owner: "bot",
    agent: null,
    pending: {},            // client_msg_id -> text, until acknowledged
    seen: {},               // seq -> true, so a replay never shows a message twice
    bubbles: {},            // client_msg_id -> status element of our own message
    typingTimer: null,
    lastTypingSent: 0
  };

  function load() {
    try { return JSON.parse(sessionStorage.getItem(STORE_KEY)) || {}; } catch (e) { return {}; }
  }
  function persist() {
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify({
        conversationId: saved.conversationId || null,
        resumeToken: saved.resumeToken || null,
        pending: state.pending
      }));
    } catch (e) { /* storage may be disabled; the chat still works for this page view */ }
  }
  if (saved.pending) state.pending = saved.pending;

  // ---- DOM (everything inside a shadow root, so host CSS and ours never meet) ----
  var host = document.createElement("div");
  host.id = "escalator-widget";
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML = [
    "<style>",
    ":host{all:initial !important}",  // outer rules beat :host unless important (the demo page styles every div)
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;",
    "background:#1f5f8b;color:#fff;font-size:16px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #f0b429;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:370px;height:560px;max-height:calc(100vh - 104px);",
    "display:flex;flex-direction:column;background:#fff;color:#1b1b1b;border-radius:12px;overflow:hidden;",
    "box-shadow:0 8px 30px rgba(0,0,0,.3)}",
    ".panel[hidden]{display:none}",
    "header{background:#1f5f8b;color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}",
    "header .who{flex:1;min-width:0}",
    "header .title{font-weight:600;font-size:15px}",
    "header .status{font-size:12px;opacity:.9}",
    "header button{background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer;line-height:1}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f8fa}",
    ".msg{max-width:85%;padding:8px 11px;border-radius:10px;font-size:14px;line-height:1.4;white-space:pre-wrap;word-wrap:break-word}",
    ".msg .from{display:block;font-size:11px;font-weight:600;margin-bottom:2px;opacity:.75}",
    ".msg.customer{align-self:flex-end;background:#1f5f8b;color:#fff}",
    ".msg.bot{align-self:flex-start;background:#fff;border:1px solid #dde3ea}",
    ".msg.agent{align-self:flex-start;background:#e7f5ec;border:1px solid #b9e2c8}",
    ".msg.system{align-self:center;background:transparent;color:#555;font-size:12px;text-align:center}",
    ".msg .delivery{display:block;font-size:10px;text-align:right;opacity:.8;margin-top:2px}",
    ".banner{padding:8px 12px;font-size:13px;background:#fff7e0;border-top:1px solid #f0dca0}",
    ".banner[hidden],.typing[hidden]{display:none}",
    ".typing{padding:4px 14px;font-size:12px;color:#555;font-style:italic;background:#f6f8fa}",
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid #dde3ea;background:#fff}",
    "textarea{flex:1;resize:none;border:1px solid #b8c2cc;border-radius:8px;padding:8px;font-size:14px;height:42px}",
    "form button{border:0;border-radius:8px;background:#1f5f8b;color:#fff;padding:0 14px;font-size:14px;cursor:pointer}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100vh;max-height:100vh;border-radius:0}",
    ".launcher{right:12px;bottom:12px}}",
    "</style>",
    "<button class='launcher' type='button' aria-haspopup='dialog' aria-expanded='false' aria-controls='panel'>Chat with us</button>",
    "<section class='panel' id='panel' role='dialog' aria-modal='false' aria-labelledby='title' hidden>",
    "<header><div class='who'><div class='title' id='title'></div><div class='status' id='status' aria-live='polite'></div></div>",
    "<button type='button' class='close' aria-label='Close chat'>&times;</button></header>",
    "<div class='log' role='log' aria-live='polite' aria-relevant='additions' aria-label='Conversation'></div>",
    "<div class='typing' aria-live='polite' hidden></div>",
    "<div class='banner' role='status' hidden></div>",
    "<form><label class='sr' for='input'>Your message</label>",
    "<textarea id='input' rows='1' maxlength='2000' placeholder='Type your message…'></textarea>",
    "<button type='submit'>Send</button></form>",
    "</section>"
  ].join("");

  var launcher = root.querySelector(".launcher");
  var panel = root.querySelector(".panel");
  var title = root.querySelector("#title");
  var statusLine = root.querySelector("#status");
  var log = root.querySelector(".log");
  var typingLine = root.querySelector(".typing");
  var banner = root.querySelector(".banner");
  var form = root.querySelector("form");
  var input = root.querySelector("textarea");

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  launcher.addEventListener("click", function () { setOpen(!state.open); });
  root.querySelector(".close").addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") setOpen(false);
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); send(); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); send(); }
  });
  input.addEventListener("input", sendTyping);

  function setOpen(open) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.textContent = open ? "Close chat" : "Chat with us";
    if (open) {
      if (!state.socket) connect();
      input.focus();
    } else {
      launcher.focus();
    }
  }

  // ---- who the customer is talking to ----
  function renderHeader() {
    if (state.owner === "agent") {
      title.textContent = (state.agent || "A team member") + " (person)";
    } else if (state.owner === "queued") {
      title.textContent = "Waiting for a person";
    } else {
      title.textContent = "Store assistant (bot)";
    }
    statusLine.textContent = state.connected ? statusText() : "Reconnecting…";
  }
  function statusText() {
    if (state.owner === "queued" && state.position) {
      return "You are number " + state.position + " in line, about " + minutes(state.eta) + ".";
    }
    if (state.owner === "agent") return "You are chatting with a person.";
    if (state.owner === "closed") return "This chat was resolved. Write again any time.";
    return "Automated answers, a person on request.";
  }
  function minutes(seconds) {
    var m = Math.max(1, Math.round((seconds || 0) / 60));
    return m === 1 ? "1 minute" : m + " minutes";
  }

  // ---- messages ----
  function senderLabel(frame) {
    if (frame.sender === "customer") return "You";
    if (frame.sender === "agent") return (frame.author || "Agent") + " (person)";
    if (frame.sender === "bot") return "Assistant (bot)";
    return "";
  }
  function addBubble(sender, label, text) {
    var item = document.createElement("div");
    item.className = "msg " + sender;
    if (label) {
      var from = document.createElement("span");
      from.className = "from";
      from.textContent = label;
      item.appendChild(from);
    }
    var body = document.createElement("span");
    body.className = "text";
    body.textContent = text;  // user text is always rendered as text, never as HTML
    item.appendChild(body);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }
  function markDelivery(id, label) {
    var bubble = state.bubbles[id];
    if (!bubble) return;
    var mark = bubble.querySelector(".delivery");
    if (!mark) {
      mark = document.createElement("span");
      mark.className = "delivery";
      bubble.appendChild(mark);
    }
    mark.textContent = label;
  }
  function onMessage(frame) {
    if (state.seen[frame.seq]) return;
    state.seen[frame.seq] = true;
    state.lastSeq = Math.max(state.lastSeq, frame.seq);
    if (frame.client_msg_id && state.bubbles[frame.client_msg_id]) {
      markDelivery(frame.client_msg_id, "Delivered");
    } else {
      addBubble(frame.sender, senderLabel(frame), frame.text);
    }
    if (frame.sender !== "customer") typingLine.hidden = true;
    persist();
  }

  function send() {
    var text = input.value.trim();
    if (!text) return;
    var id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    input.value = "";
    state.pending[id] = text;
    persist();
    state.bubbles[id] = addBubble("customer", "You", text);
    markDelivery(id, "Sending…");
    transmit(id, text);
  }
  function transmit(id, text) {
    if (state.connected) {
      state.socket.send(JSON.stringify({ type: "message", client_msg_id: id, text: text }));
      markDelivery(id, "Sent");
    }
  }
  function sendTyping() {
    var now = Date.now();
    if (state.connected && now - state.lastTypingSent > TYPING_EVERY_MS) {
      state.lastTypingSent = now;
      state.socket.send(JSON.stringify({ type: "typing" }));
    }
  }

  // ---- the connection: hello, resume with last_seq, reconnect with backoff ----
  function connect() {
    var socket = new WebSocket(socketUrl);
    state.socket = socket;
    socket.onopen = function () {
      var customer = window.escalatorCustomer || {};
      socket.send(JSON.stringify({
        type: "hello",
        conversation_id: saved.conversationId || null,
        resume_token: saved.resumeToken || null,
        last_seq: state.lastSeq,
        customer: {
          name: customer.name || null,
          email: customer.email || null,
          page_url: location.href,
          attributes: customer.attributes || {}
        }
      }));
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      handle(frame);
    };
    socket.onclose = function () {
      state.connected = false;
      state.socket = null;
      renderHeader();
      var delay = Math.min(MAX_BACKOFF_MS, 500 * Math.pow(2, state.attempts)) * (0.5 + Math.random() / 2);
      state.attempts += 1;
      setTimeout(connect, delay);
    };
  }

  function handle(frame) {
    switch (frame.type) {
      case "welcome":
        if (!frame.resumed) {
          // A new conversation: what we remembered belonged to another one.
          state.lastSeq = 0;
          state.seen = {};
        }
        saved.conversationId = frame.conversation_id;
        saved.resumeToken = frame.resume_token;
        state.connected = true;
        state.attempts = 0;
        state.owner = frame.state;
        persist();
        renderHeader();
        // Anything not yet acknowledged goes again under the same id: the server stores it once.
        Object.keys(state.pending).forEach(function (id) {
          if (!state.bubbles[id]) state.bubbles[id] = addBubble("customer", "You", state.pending[id]);
          transmit(id, state.pending[id]);
        });
        break;
      case "ack":
        delete state.pending[frame.client_msg_id];
        markDelivery(frame.client_msg_id, "Delivered");
        persist();
        break;
      case "message":
        onMessage(frame);
        break;
      case "state":
        state.owner = frame.state;
        state.agent = frame.agent || null;
        state.position = frame.position;
        state.eta = frame.eta_s;
        renderHeader();
        break;
      case "typing":
        typingLine.textContent = (state.owner === "agent" ? (state.agent || "The agent") : "The assistant") + " is typing…";
        typingLine.hidden = false;
        clearTimeout(state.typingTimer);
        state.typingTimer = setTimeout(function () { typingLine.hidden = true; }, 4000);
        break;
      case "error":
        var wait = Math.ceil(frame.retry_after || 1);
        banner.textContent = frame.code === "rate_limited"
          ? "You're sending messages quickly. Please wait " + wait + " s."
          : frame.code === "busy" ? "We're very busy right now. Your message will be sent again in " + wait + " s."
          : frame.message;
        banner.hidden = false;
        setTimeout(function () { banner.hidden = true; }, 6000);
        // A refused message was not stored: it goes again, under the same id, when the server said to.
        var refused = frame.client_msg_id;
        if (refused && state.pending[refused] && frame.retry_after) {
          markDelivery(refused, "Waiting to send…");
          setTimeout(function () {
            if (state.pending[refused]) transmit(refused, state.pending[refused]);
          }, frame.retry_after * 1000);
        }
        break;
    }
  }

  renderHeader();
  if (saved.conversationId) connect();  // a reload mid-chat picks the conversation up again
})();
