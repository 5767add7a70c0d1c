// The agent console: login, status, the live queue, my chats, and the supervisor's overview.
// Everything live comes over /ws/agent (docs/agent-api.md); HTTP is for actions and (re)loading.

import { beep, enableNotifications, enableSound, notify } from "./alerts.js";
import { api } from "./api.js";
import { ChatView, slaClock } from "./chat.js";
import { clear, el, tickClocks } from "./dom.js";
import { renderOverview } from "./supervisor.js";

const $ = (id) => document.getElementById(id);
const QUEUE_EVENTS = new Set(["ticket_opened", "ticket_taken", "ticket_requeued", "ticket_transferred", "ticket_closed", "ticket_updated"]);
const MAX_BACKOFF_MS = 10000;

const state = {
  me: null,
  socket: null,
  socketAttempts: 0,
  reconnectTimer: null,
  reconnecting: false,
  queue: { queued: [], offline: [] },
  knownQueued: new Set(),   // ticket ids already shown, so only new arrivals are announced
  offers: new Map(),        // ticket id -> deadline (ms epoch) of an offer made to me
  offerTimeoutS: 30,
  chats: new Map(),         // ticket id -> ChatView
  active: null,
  targets: { agents: [], teams: {} },
  sound: false,
  notifications: false,
  refreshTimers: {},
};

// ---- boot, login, logout -------------------------------------------------------------------

// Module scripts run once the document is parsed, so the elements below all exist.
boot();

function boot() {
  $("login-form").addEventListener("submit", login);
  $("logout-button").addEventListener("click", logout);
  $("status-select").addEventListener("change", () => setStatus($("status-select").value));
  $("sound-toggle").addEventListener("change", (event) => {
    state.sound = event.target.checked && enableSound();
    event.target.checked = state.sound;
    if (state.sound) beep();
  });
  $("notify-toggle").addEventListener("change", async (event) => {
    const wanted = event.target.checked;
    state.notifications = wanted && await enableNotifications();
    event.target.checked = state.notifications;
    if (wanted && !state.notifications) showAlert("The browser does not allow notifications for this page.");
  });
  $("view-work").addEventListener("click", () => showView("work"));
  $("view-supervisor").addEventListener("click", () => showView("supervisor"));
  $("overview-refresh").addEventListener("click", refreshOverview);
  $("chat-tabs").addEventListener("keydown", tabKeys);
  window.addEventListener("escalator:unauthorized", () => showLogin("Your session ended. Please log in again."));
  setInterval(() => { tickClocks(); tickOffers(); }, 1000);
  setInterval(() => { if (state.me && !$("supervisor-view").hidden) refreshOverview(); }, 10000);
  start();
}

async function start() {
  try {
    state.me = await api("GET", "/me");
  } catch (error) {
    showLogin(error.status === 401 ? "" : error.message);
    return;
  }
  await showApp();
}

async function login(event) {
  event.preventDefault();
  const username = $("login-username").value.trim();
  const password = $("login-password").value;
  $("login-error").textContent = "";
  if (!username || !password) {
    $("login-error").textContent = "Enter your user name and password.";
    (username ? $("login-password") : $("login-username")).focus();
    return;
  }
  try {
    const answer = await api("POST", "/login", { username, password });
    state.me = answer.agent;
    $("login-password").value = "";
    await showApp();
  } catch (error) {
    $("login-error").textContent = error.status === 401 ? "Wrong user name or password." : error.message;
    $("login-password").focus();
  }
}

async function logout() {
  try { await api("POST", "/logout"); } catch (error) { /* the session may already be gone */ }
  showLogin("You are logged out.");
}

function showLogin(message) {
  state.me = null;
  state.reconnecting = false;
  closeSocket();
  for (const view of state.chats.values()) view.remove();
  state.chats.clear();
  state.active = null;
  state.knownQueued.clear();
  state.offers.clear();
  $("session").hidden = true;
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  $("login-error").textContent = message || "";
  $("login-username").focus();
}

async function showApp() {
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("session").hidden = false;
  renderMe();
  $("view-supervisor").hidden = !isSupervisor();
  showView("work", { focus: false });
  connect();
  await Promise.all([refreshQueue(), loadMyChats(), loadTargets()]);
  $("queue-title").focus();
}

function renderMe() {
  const me = state.me;
  $("whoami").textContent = `${me.display_name} (${me.role})`;
  $("status-select").value = me.status === "online" ? "online" : "away";
  if (me.status !== "online" && me.status !== "away") $("status-select").value = "away";
}

function isSupervisor() {
  return state.me && (state.me.role === "supervisor" || state.me.role === "admin");
}

async function setStatus(status) {
  try {
    state.me = await api("PUT", "/status", { status });
    renderMe();
    announce(`You are ${status}.`);
  } catch (error) {
    showAlert(error.message);
  }
}

function showView(name, { focus = true } = {}) {
  const supervisor = name === "supervisor";
  $("work-view").hidden = supervisor;
  $("supervisor-view").hidden = !supervisor;
  $("view-work").setAttribute("aria-pressed", String(!supervisor));
  $("view-supervisor").setAttribute("aria-pressed", String(supervisor));
  if (supervisor) refreshOverview();
  if (focus) (supervisor ? $("supervisor-title") : $("queue-title")).focus();
}

// ---- the live socket -------------------------------------------------------------------------

function connect() {
  closeSocket();
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/agent`;
  const socket = new WebSocket(url);
  state.socket = socket;
  setSocketState("Connecting…");
  socket.onopen = () => {
    state.socketAttempts = 0;
  };
  socket.onmessage = (event) => {
    let frame;
    try { frame = JSON.parse(event.data); } catch (error) { return; }
    onFrame(frame);
  };
  socket.onclose = (event) => {
    if (state.socket !== socket) return;
    state.socket = null;
    if (event.code === 4401) {
      showLogin("Your session ended. Please log in again.");
      return;
    }
    setSocketState("Reconnecting…");
    state.reconnecting = true;
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** state.socketAttempts) * (0.5 + Math.random() / 2);
    state.socketAttempts += 1;
    state.reconnectTimer = setTimeout(() => { if (state.me) connect(); }, delay);
  };
}

function closeSocket() {
  clearTimeout(state.reconnectTimer);
  const socket = state.socket;
  state.socket = null;
  if (socket) socket.close(1000);
}

function socketOpen() {
  return Boolean(state.socket && state.socket.readyState === WebSocket.OPEN);
}

function setSocketState(text) {
  $("socket-state").textContent = text;
  $("socket-state").classList.toggle("down", text !== "Live");
}

function onFrame(frame) {
  switch (frame.type) {
    case "hello":
      state.me = frame.agent;
      renderMe();
      setSocketState("Live");
      // Anything missed while the socket was down: reload the queue and the open chats (they merge by seq).
      if (state.reconnecting) {
        state.reconnecting = false;
        refreshQueue();
        for (const view of state.chats.values()) {
          if (view.readOnly) watch(view.ticketId);
          view.load();
        }
      }
      break;
    case "offer":
      state.offerTimeoutS = frame.timeout_s || state.offerTimeoutS;
      state.offers.set(frame.ticket.id, Date.now() + state.offerTimeoutS * 1000);
      alertNewChat(frame.ticket, true);
      scheduleQueueRefresh();
      break;
    case "offer_withdrawn":
      state.offers.delete(frame.ticket_id);
      announce(`The offer of ticket ${frame.ticket_id} expired.`);
      scheduleQueueRefresh();
      break;
    case "assigned":
      announce(`${frame.from || "Someone"} transferred a chat to you.`);
      openChat(frame.ticket.id, { select: state.chats.size === 0 });
      break;
    case "note": {
      const view = state.chats.get(frame.ticket_id);
      if (view) view.addNote({ author: frame.author, text: frame.text, at: new Date().toISOString() });
      break;
    }
    case "chat_event": {
      const view = state.chats.get(frame.ticket_id);
      if (view) view.onEvent(frame.event);
      break;
    }
    case "agent_status":
      if (frame.agent && state.me && frame.agent.id === state.me.id) {
        state.me = frame.agent;
        renderMe();
      }
      scheduleRefresh("targets", loadTargets, 300);
      scheduleOverviewRefresh();
      break;
    case "sla_at_risk":
    case "sla_breached":
      announce(`SLA ${frame.type === "sla_breached" ? "breached" : "at risk"} for ticket ${frame.ticket.id}.`);
      scheduleQueueRefresh();
      scheduleOverviewRefresh();
      break;
    default:
      if (QUEUE_EVENTS.has(frame.type)) onQueueEvent(frame);
  }
}

function onQueueEvent(frame) {
  const ticket = frame.ticket || {};
  if (frame.type === "ticket_opened" && ticket.status === "queued") alertNewChat(ticket, false);
  if (frame.type === "ticket_opened" && ticket.status === "offline") announce("A customer left a message out of hours.");
  if (ticket.id !== undefined) {
    const mine = state.me && ticket.assigned_agent === state.me.id && ticket.status === "assigned";
    if (mine && !state.chats.has(ticket.id)) openChat(ticket.id, { select: false });
    if (frame.type !== "ticket_opened") state.offers.delete(ticket.id);
  }
  scheduleQueueRefresh();
  scheduleOverviewRefresh();
}

function alertNewChat(ticket, offered) {
  const text = offered ? `Chat offered to you: ticket ${ticket.id}. ${ticket.reason || ""}` : `New chat waiting: ${ticket.reason || "ticket " + ticket.id}`;
  announce(text);
  if (state.sound) beep();
  if (state.notifications) notify(offered ? "A chat is offered to you" : "A customer is waiting", ticket.reason || "");
}

function sendTyping(ticketId) {
  if (socketOpen()) {
    state.socket.send(JSON.stringify({ type: "typing", ticket_id: ticketId }));
  } else {
    api("POST", `/tickets/${ticketId}/typing`).catch(() => {});
  }
}

function watch(ticketId) {
  if (socketOpen()) state.socket.send(JSON.stringify({ type: "watch", ticket_id: ticketId }));
}

// ---- the queue -------------------------------------------------------------------------------

function scheduleRefresh(key, action, delay) {
  clearTimeout(state.refreshTimers[key]);
  state.refreshTimers[key] = setTimeout(action, delay);
}

function scheduleQueueRefresh() {
  scheduleRefresh("queue", refreshQueue, 150);
}

function scheduleOverviewRefresh() {
  if (!$("supervisor-view").hidden) scheduleRefresh("overview", refreshOverview, 300);
}

async function refreshQueue() {
  if (!state.me) return;
  try {
    state.queue = await api("GET", "/queue");
  } catch (error) {
    if (error.status !== 401) showAlert(`Could not load the queue: ${error.message}`);
    return;
  }
  renderQueue();
}

function renderQueue() {
  const { queued, offline } = state.queue;
  const list = $("queue-list");
  const fresh = [];
  clear(list);
  for (const ticket of queued) {
    if (ticket.offered_to_me && !state.offers.has(ticket.id)) {
      const offeredAt = Date.parse(ticket.offered_at || "") || Date.now();
      state.offers.set(ticket.id, offeredAt + state.offerTimeoutS * 1000);
    }
    if (!ticket.offered_to_me) state.offers.delete(ticket.id);
    if (!state.knownQueued.has(ticket.id)) fresh.push(ticket.id);
    list.appendChild(queueRow(ticket, fresh.includes(ticket.id) && state.knownQueued.size > 0));
  }
  state.knownQueued = new Set(queued.map((t) => t.id));
  $("queue-count").textContent = queued.length ? `(${queued.length})` : "";
  $("queue-empty").hidden = queued.length > 0;

  const offlineList = $("offline-list");
  clear(offlineList);
  for (const ticket of offline) offlineList.appendChild(offlineRow(ticket));
  $("offline-count").textContent = offline.length ? `(${offline.length})` : "";
  $("offline-empty").hidden = offline.length > 0;
  tickClocks($("work-view"));
  tickOffers();
}

function queueRow(ticket, isNew) {
  const customer = ticket.customer || {};
  const offered = ticket.offered_to_me;
  const accept = el("button", { type: "button", className: "primary accept" }, "Accept");
  accept.setAttribute("aria-label", `Accept ticket ${ticket.id} from ${customer.name || "an anonymous customer"}`);
  accept.addEventListener("click", () => acceptTicket(ticket.id, accept));
  const buttons = el("div", { className: "row-actions" }, accept);
  if (offered) {
    const decline = el("button", { type: "button", className: "decline" }, "Decline");
    decline.addEventListener("click", () => declineTicket(ticket.id));
    buttons.appendChild(decline);
  }
  return el("li", { className: `queue-row${offered ? " offered" : ""}${isNew ? " new" : ""}`, dataset: { ticketId: String(ticket.id) } },
    el("div", { className: "row-head" },
      el("span", { className: `priority priority-${String(ticket.priority).replace(/[^a-z]/g, "")}` }, ticket.priority), " ",
      el("strong", { className: "customer-name" }, customer.name || "Anonymous customer"),
      el("span", { className: "muted" }, ` · #${ticket.id} · team ${ticket.team}`)),
    offered ? el("p", { className: "offer-line" }, "Offered to you — ",
      el("span", { className: "offer-countdown", dataset: { ticketId: String(ticket.id) } })) : null,
    el("p", { className: "reason" }, ticket.reason || ""),
    ticket.summary ? el("p", { className: "summary-text muted" }, ticket.summary) : null,
    el("p", { className: "times" },
      el("span", { className: "waiting", dataset: { since: String(Date.parse(ticket.queued_at)), prefix: "waiting " } }), " · ",
      slaClock(ticket)),
    buttons);
}

function offlineRow(ticket) {
  const customer = ticket.customer || {};
  const comment = el("input", { id: `offline-comment-${ticket.id}`, maxlength: 2000 });
  const close = el("button", { type: "button" }, "Close");
  close.setAttribute("aria-label", `Close offline ticket ${ticket.id}`);
  close.addEventListener("click", async () => {
    close.disabled = true;
    try {
      await api("POST", `/tickets/${ticket.id}/close-offline`, { comment: comment.value.trim() || null });
      announce(`Offline ticket ${ticket.id} closed.`);
      refreshQueue();
    } catch (error) {
      close.disabled = false;
      showAlert(error.message);
    }
  });
  return el("li", { className: "queue-row offline", dataset: { ticketId: String(ticket.id) } },
    el("div", { className: "row-head" }, el("strong", { className: "customer-name" }, customer.name || "Anonymous customer"),
      el("span", { className: "muted" }, ` · #${ticket.id} · team ${ticket.team}`)),
    el("p", { className: "reason" }, ticket.reason || ""),
    el("p", {}, "Contact: ", el("span", { className: "contact-email" }, ticket.contact_email || "no email left yet")),
    ticket.contact_message ? el("p", { className: "contact-message" }, ticket.contact_message) : null,
    el("label", { htmlFor: `offline-comment-${ticket.id}` }, "Follow-up comment (optional)"), comment,
    el("div", { className: "row-actions" }, close));
}

function tickOffers() {
  const now = Date.now();
  for (const node of document.querySelectorAll(".offer-countdown")) {
    const deadline = state.offers.get(Number(node.dataset.ticketId));
    const left = deadline ? Math.max(0, Math.round((deadline - now) / 1000)) : 0;
    node.textContent = `accept within ${left} s`;
  }
}

async function acceptTicket(ticketId, button) {
  button.disabled = true;
  try {
    await api("POST", `/tickets/${ticketId}/accept`);
    state.offers.delete(ticketId);
    announce(`You took ticket ${ticketId}.`);
    await openChat(ticketId, { select: true });
  } catch (error) {
    button.disabled = false;
    showAlert(error.status === 409 ? "Someone else took this chat first." : error.message);
  }
  refreshQueue();
}

async function declineTicket(ticketId) {
  try {
    await api("POST", `/tickets/${ticketId}/decline`);
    state.offers.delete(ticketId);
    announce(`You declined ticket ${ticketId}.`);
  } catch (error) {
    showAlert(error.message);
  }
  refreshQueue();
}

// ---- my chats --------------------------------------------------------------------------------

async function loadMyChats() {
  try {
    const chats = await api("GET", "/chats");
    await Promise.all(chats.map((t, i) => openChat(t.id, { select: i === 0 && !state.active, focus: false })));
  } catch (error) {
    if (error.status !== 401) showAlert(`Could not load your chats: ${error.message}`);
  }
}

async function loadTargets() {
  try {
    const [agents, teams] = await Promise.all([api("GET", "/agents"), api("GET", "/teams")]);
    state.targets = { agents, teams };
    for (const view of state.chats.values()) if (view.refreshTargets) view.refreshTargets();
  } catch (error) {
    // Transfers show an empty target list until the next successful load.
  }
}

async function openChat(ticketId, { select = true, focus = true, readOnly = false } = {}) {
  let view = state.chats.get(ticketId);
  if (view && view.readOnly && !readOnly) {
    // A chat we were watching is now ours (transferred to us): swap the read-only view for a full one.
    select = select || state.active === view;
    view.remove();
    state.chats.delete(ticketId);
    if (state.active === view) state.active = null;
    view = undefined;
  }
  if (!view) {
    view = new ChatView(ticketId, {
      readOnly,
      me: () => state.me,
      targets: () => state.targets,
      sendTyping,
      socketOpen,
      announce,
      onSelect: (v) => selectChat(v, true),
      onEnded: () => renderChatCount(),
      onClose: closeChat,
    });
    state.chats.set(ticketId, view);
    $("chat-tabs").appendChild(view.tab);
    $("chat-panels").appendChild(view.panel);
    renderChatCount();
    if (readOnly) watch(ticketId);
    await view.load();
    if (view.refreshTargets) view.refreshTargets();
  }
  if (select || !state.active) selectChat(view, focus);
  return view;
}

function selectChat(view, focus) {
  for (const other of state.chats.values()) other.select(other === view);
  state.active = view;
  if (!$("work-view").hidden && focus) view.focus();
}

function closeChat(view) {
  view.remove();
  state.chats.delete(view.ticketId);
  if (state.active === view) {
    state.active = null;
    const next = state.chats.values().next().value;
    if (next) selectChat(next, true);
    else $("chats-title").focus();
  }
  renderChatCount();
}

function renderChatCount() {
  const live = [...state.chats.values()].filter((v) => !v.ended && !v.readOnly).length;
  $("chats-count").textContent = state.chats.size ? `(${live} live)` : "";
  $("chats-empty").hidden = state.chats.size > 0;
}

/** Arrow keys, Home and End move between chat tabs (the WAI-ARIA tabs pattern). */
function tabKeys(event) {
  const tabs = [...$("chat-tabs").querySelectorAll("[role=tab]")];
  const at = tabs.indexOf(document.activeElement);
  if (at < 0) return;
  const moves = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  const next = tabs[(moves[event.key] + tabs.length) % tabs.length];
  next.focus();
  next.click();
}

// ---- the supervisor --------------------------------------------------------------------------

async function refreshOverview() {
  if (!isSupervisor()) return;
  try {
    const overview = await api("GET", "/supervisor/overview");
    renderOverview(overview, {
      me: state.me,
      onWatch: async (ticketId) => {
        showView("work", { focus: false });
        const mine = state.me && overview.chats.some((c) => c.id === ticketId && c.assigned_agent === state.me.id);
        const view = await openChat(ticketId, { readOnly: !mine, select: true });
        view.focus();
      },
    });
    $("overview-updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
    tickClocks($("supervisor-view"));
  } catch (error) {
    if (error.status !== 401) showAlert(`Could not load the overview: ${error.message}`);
  }
}

// ---- messages for the agent ------------------------------------------------------------------

function announce(text) {
  const region = $("announcer");
  region.textContent = "";
  // A fresh text node after a tick makes screen readers announce repeated messages too.
  setTimeout(() => { region.textContent = text; }, 50);
}

let alertTimer = null;
function showAlert(text) {
  const box = $("alert");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(alertTimer);
  alertTimer = setTimeout(() => { box.hidden = true; }, 8000);
}
