// One chat in the console: its tab, transcript, handoff package, notes and actions. Read-only when a supervisor watches.

import { api } from "./api.js";
import { clear, clockTime, el, highlighted, sentimentChart, tickClocks } from "./dom.js";

const TYPING_EVERY_MS = 2000;
const CANNED_REPLIES = [
  "Hi, I'm here to help. Let me read through what you've told us so far.",
  "Thanks for your patience — I'm checking that for you now.",
  "Could you share your order number, please?",
  "I'm sorry about the trouble. Let's get this sorted out.",
  "Is there anything else I can help you with today?",
];
const SENDER_LABELS = { customer: "Customer", bot: "Bot", system: "System" };

let nextId = 0;

export class ChatView {
  /**
   * @param {number} ticketId
   * @param {object} options  {readOnly, me, sendTyping(ticketId), targets() -> {agents, teams}, onEnded(view), onSelect(view), announce(text)}
   */
  constructor(ticketId, options) {
    this.ticketId = ticketId;
    this.options = options;
    this.readOnly = Boolean(options.readOnly);
    this.ticket = null;
    this.entities = [];
    this.items = new Map(); // seq -> transcript <li>
    this.ended = false;
    this.lastTypingSent = 0;
    this.typingTimer = null;
    const id = `chat-${++nextId}`;
    this.tab = el("button", {
      type: "button", role: "tab", id: `${id}-tab`, className: "chat-tab", "aria-controls": `${id}-panel`,
      "aria-selected": "false", tabindex: "-1", dataset: { ticketId: String(ticketId) },
    });
    this.tabLabel = el("span", { className: "tab-label" }, `Ticket ${ticketId}`);
    this.tabBadge = el("span", { className: "tab-badge", hidden: true });
    this.tab.append(this.tabLabel, this.tabBadge);
    this.tab.addEventListener("click", () => options.onSelect(this));
    this.panel = el("section", {
      role: "tabpanel", id: `${id}-panel`, className: "chat-panel", "aria-labelledby": `${id}-tab`, hidden: true,
      dataset: { ticketId: String(ticketId) }, tabindex: "-1",
    });
    this.build(id);
  }

  build(id) {
    this.heading = el("h3", { className: "chat-heading" }, `Ticket ${this.ticketId}`);
    this.meta = el("p", { className: "chat-meta" });
    this.banner = el("p", { className: "chat-banner", role: "status", hidden: true });
    this.transcript = el("ol", { className: "transcript", role: "log", "aria-live": "polite", "aria-label": "Transcript" });
    this.typingLine = el("p", { className: "typing", "aria-live": "polite", hidden: true }, "The customer is typing…");
    this.error = el("p", { className: "error", role: "alert" });

    const conversation = el("div", { className: "conversation" }, this.transcript, this.typingLine);
    if (this.readOnly) {
      conversation.appendChild(el("p", { className: "readonly-note" }, "Watching read-only: you cannot reply in this chat."));
    } else {
      conversation.appendChild(this.buildReplyBox(id));
    }
    conversation.appendChild(this.error);

    this.details = el("div", { className: "details" });
    this.notesList = el("ul", { className: "notes", "aria-live": "polite", "aria-label": "Internal notes" });
    const notes = el("section", { className: "card notes-card", "aria-labelledby": `${id}-notes` },
      el("h4", { id: `${id}-notes` }, "Internal notes ", el("span", { className: "internal-tag" }, "not shown to the customer")),
      this.notesList, this.buildNoteForm(id));
    const side = el("div", { className: "side" }, this.details, notes);
    if (!this.readOnly) side.appendChild(this.buildActions(id));

    this.panel.append(
      el("header", { className: "chat-header" }, this.heading, this.meta),
      this.banner,
      el("div", { className: "chat-body" }, conversation, side),
    );
  }

  buildReplyBox(id) {
    this.replyInput = el("textarea", { id: `${id}-reply`, rows: 3, maxlength: 4000, className: "reply-input" });
    const canned = el("select", { id: `${id}-canned`, className: "canned" },
      el("option", { value: "" }, "Insert a canned reply…"),
      CANNED_REPLIES.map((text) => el("option", { value: text }, text)));
    canned.addEventListener("change", () => {
      if (!canned.value) return;
      const current = this.replyInput.value.trim();
      this.replyInput.value = current ? `${current} ${canned.value}` : canned.value;
      canned.value = "";
      this.replyInput.focus();
    });
    this.replyButton = el("button", { type: "submit", className: "primary" }, "Send");
    const form = el("form", { className: "reply-form" },
      el("label", { htmlFor: `${id}-reply` }, "Reply to the customer"),
      this.replyInput,
      el("div", { className: "row" },
        el("label", { htmlFor: `${id}-canned`, className: "sr" }, "Canned replies"), canned, this.replyButton),
      el("p", { className: "hint muted" }, "Enter sends, Shift+Enter starts a new line."));
    form.addEventListener("submit", (event) => { event.preventDefault(); this.sendReply(); });
    this.replyInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); this.sendReply(); }
    });
    this.replyInput.addEventListener("input", () => this.typing());
    return form;
  }

  buildNoteForm(id) {
    const input = el("textarea", { id: `${id}-note`, rows: 2, maxlength: 4000 });
    const form = el("form", { className: "note-form" },
      el("label", { htmlFor: `${id}-note` }, "Add an internal note"), input,
      el("button", { type: "submit" }, "Add note"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      try {
        await api("POST", `/tickets/${this.ticketId}/notes`, { text });
        input.value = "";
        if (!this.options.socketOpen()) await this.load();
      } catch (error) {
        this.fail(error);
      }
    });
    return form;
  }

  buildActions(id) {
    const kind = el("select", { id: `${id}-transfer-kind` },
      el("option", { value: "agent" }, "an agent"), el("option", { value: "team" }, "a team"),
      el("option", { value: "supervisor" }, "a supervisor"));
    const target = el("select", { id: `${id}-transfer-target` });
    const targetLabel = el("label", { htmlFor: `${id}-transfer-target` }, "Target");
    const note = el("input", { id: `${id}-transfer-note`, maxlength: 2000 });
    const fillTargets = () => {
      const { agents, teams } = this.options.targets();
      const previous = target.value;
      clear(target);
      const supervisor = kind.value === "supervisor";
      target.hidden = supervisor;
      targetLabel.hidden = supervisor;
      if (kind.value === "agent") {
        for (const agent of agents.filter((a) => a.id !== this.options.me().id)) {
          target.appendChild(el("option", { value: agent.id },
            `${agent.display_name} (${agent.status}, ${agent.load ?? 0}/${agent.max_chats})`));
        }
      } else if (kind.value === "team") {
        for (const team of Object.keys(teams)) target.appendChild(el("option", { value: team }, team));
      }
      if ([...target.options].some((option) => option.value === previous)) target.value = previous;
    };
    kind.addEventListener("change", fillTargets);
    target.addEventListener("focus", fillTargets, { once: true });
    this.refreshTargets = fillTargets;
    const transfer = el("form", { className: "transfer-form" },
      el("h4", {}, "Transfer"),
      el("label", { htmlFor: `${id}-transfer-kind` }, "To"), kind, targetLabel, target,
      el("label", { htmlFor: `${id}-transfer-note` }, "Note for the next person"), note,
      el("button", { type: "submit" }, "Transfer"));
    transfer.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { to: kind.value, note: note.value.trim() };
      if (kind.value !== "supervisor") body.target = target.value;
      try {
        await api("POST", `/tickets/${this.ticketId}/transfer`, body);
        this.end(`Transferred to ${kind.value === "supervisor" ? "a supervisor" : target.value}.`);
      } catch (error) {
        this.fail(error);
      }
    });

    const back = el("button", { type: "button", className: "return-button" }, "Return to bot");
    back.addEventListener("click", async () => {
      try {
        await api("POST", `/tickets/${this.ticketId}/return`);
        this.end("Handed back to the bot.");
      } catch (error) {
        this.fail(error);
      }
    });

    const yes = el("input", { type: "radio", name: `${id}-needed`, id: `${id}-needed-yes`, value: "yes" });
    const no = el("input", { type: "radio", name: `${id}-needed`, id: `${id}-needed-no`, value: "no" });
    const comment = el("textarea", { id: `${id}-comment`, rows: 2, maxlength: 2000 });
    const resolve = el("form", { className: "resolve-form" },
      el("h4", {}, "Resolve"),
      el("fieldset", {},
        el("legend", {}, "Was a person needed?"),
        el("label", { htmlFor: `${id}-needed-yes`, className: "inline" }, yes, " Yes, the handoff was needed"),
        el("label", { htmlFor: `${id}-needed-no`, className: "inline" }, no, " No, the bot could have handled it")),
      el("label", { htmlFor: `${id}-comment` }, "Comment (optional)"), comment,
      el("button", { type: "submit", className: "primary" }, "Resolve chat"));
    resolve.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!yes.checked && !no.checked) {
        this.fail(new Error("Choose whether the handoff was needed."));
        yes.focus();
        return;
      }
      try {
        await api("POST", `/tickets/${this.ticketId}/resolve`, { needed: yes.checked, comment: comment.value.trim() || null });
        this.end(`Resolved (handoff ${yes.checked ? "needed" : "not needed"}).`);
      } catch (error) {
        this.fail(error);
      }
    });

    this.actions = el("section", { className: "card actions", "aria-label": "Actions" }, transfer,
      el("div", { className: "return" }, el("h4", {}, "Back to the bot"), back), resolve);
    return this.actions;
  }

  /** Fetch the ticket with its package, events and transcript; safe to call again (messages merge by seq). */
  async load() {
    try {
      const ticket = await api("GET", `/tickets/${this.ticketId}`);
      this.ticket = ticket;
      this.entities = (ticket.package && ticket.package.entities) || [];
      for (const frame of ticket.messages || []) this.addMessage(frame, { quiet: true });
      this.rehighlight();
      this.renderDetails();
      this.renderNotes(ticket.events || []);
      if (!["assigned", "queued"].includes(ticket.status) && !this.readOnly) this.end(endText(ticket.status));
      if (this.readOnly && ticket.assigned_agent) this.banner.hidden = true;
    } catch (error) {
      this.fail(error);
    }
  }

  renderDetails() {
    const t = this.ticket;
    const p = t.package || {};
    const customer = p.customer || t.customer || {};
    const name = customer.name || "Anonymous customer";
    this.tabLabel.textContent = `${name} · #${t.id}`;
    this.heading.textContent = `${name} — ticket ${t.id}`;
    clear(this.meta).append(
      el("span", { className: `priority priority-${safeClass(t.priority)}` }, t.priority || ""), " ",
      el("span", {}, `team ${t.team}`), " · ",
      el("span", {}, t.status === "assigned" && t.assigned_agent ? `held by ${t.assigned_agent}` : t.status), " · ",
      timeInQueue(t), " · ",
      slaClock(t));

    const trigger = p.trigger || {};
    const why = el("section", { className: "card why" },
      el("h4", {}, "Why it was handed over"),
      el("p", { className: "reason" }, trigger.reason || t.reason || "The customer needs a person."),
      el("p", { className: "muted" },
        trigger.detector ? `Detector: ${trigger.detector}` : "",
        typeof trigger.score === "number" ? ` — score ${fmt(trigger.score)} (threshold ${fmt(trigger.threshold)})` : ""),
      (p.reasons || []).length > 1 ? el("ul", { className: "plain" }, p.reasons.map((r) => el("li", {}, r))) : null,
      p.priority ? el("p", { className: "muted" },
        `Priority ${p.priority.level}`, (p.priority.reasons || []).length ? `: ${p.priority.reasons.join("; ")}` : "") : null);

    const scores = el("section", { className: "card scores" }, el("h4", {}, "Detector scores per customer message"),
      scoreTable(p.turn_scores || []));

    const trajectory = p.sentiment_trajectory || [];
    const sentimentThreshold = lastThreshold(p.turn_scores || [], "sentiment");
    const chart = el("section", { className: "card trajectory" }, el("h4", {}, "Sentiment trajectory"),
      sentimentChart(trajectory, sentimentThreshold),
      el("p", { className: "muted" }, "P(negative) per customer message; the dashed line is the sentiment threshold."));

    const entityItems = this.entities.map((e) => el("li", {},
      el("span", { className: "entity-type" }, String(e.type || "")), " ",
      el("mark", { className: `entity entity-${safeClass(e.type)}` }, String(e.text || "")),
      e.value && e.value !== e.text ? el("span", { className: "muted" }, ` (${e.value})`) : null));
    const entities = el("section", { className: "card entities" }, el("h4", {}, "Details mentioned"),
      entityItems.length ? el("ul", { className: "plain entity-list" }, entityItems) : el("p", { className: "muted" }, "None found."));

    const summary = el("section", { className: "card summary" }, el("h4", {}, "Summary"),
      el("p", { className: "summary-text" }, p.summary || t.summary || "No summary."));

    const attributes = Object.entries(customer.attributes || {});
    const meta = el("dl", { className: "customer-meta" },
      el("dt", {}, "Name"), el("dd", { className: "customer-name" }, customer.name || "—"),
      el("dt", {}, "Email"), el("dd", { className: "customer-email" }, customer.email || "—"),
      el("dt", {}, "Page"), el("dd", { className: "customer-page" }, pageLink(customer.page_url)),
      attributes.map(([key, value]) => [el("dt", { className: "attr-key" }, key), el("dd", { className: "attr-value" }, String(value))]));
    const who = el("section", { className: "card customer" }, el("h4", {}, "Customer"), meta);

    clear(this.details).append(why, summary, who, entities, chart, scores);
    tickClocks(this.panel);
  }

  renderNotes(events) {
    clear(this.notesList);
    for (const event of events) {
      if (event.kind === "note") this.addNote({ author: event.data.author || event.actor, text: event.data.text, at: event.at });
      else if (event.kind.startsWith("transfer") && event.data && event.data.note) {
        this.addNote({ author: event.actor, text: `Transfer note: ${event.data.note}`, at: event.at });
      }
    }
  }

  addNote({ author, text, at }) {
    this.notesList.appendChild(el("li", { className: "note" },
      el("span", { className: "internal-tag" }, "Internal"), " ",
      el("strong", {}, author || "Someone"), at ? el("span", { className: "muted" }, ` ${clockTime(at)}`) : null,
      el("p", { className: "note-text" }, text)));
  }

  /** A customer-protocol message frame; duplicates (same seq) are ignored, order follows seq. */
  addMessage(frame, { quiet = false } = {}) {
    if (frame.type !== "message" || typeof frame.seq !== "number" || this.items.has(frame.seq)) return;
    const sender = SENDER_LABELS[frame.sender] ? frame.sender : (frame.sender === "agent" ? "agent" : "system");
    const label = frame.sender === "agent" ? `${frame.author || "Agent"} (agent)` : SENDER_LABELS[sender];
    const body = el("p", { className: "text" });
    body.dataset.raw = frame.text;
    body.appendChild(highlighted(frame.text, this.entities));
    const item = el("li", { className: `message ${sender}`, dataset: { seq: String(frame.seq) } },
      el("span", { className: "from" }, label), " ",
      el("time", { className: "muted", datetime: frame.ts || "" }, frame.ts ? clockTime(frame.ts) : ""),
      body);
    const later = [...this.items.keys()].filter((seq) => seq > frame.seq).sort((a, b) => a - b)[0];
    this.transcript.insertBefore(item, later === undefined ? null : this.items.get(later));
    this.items.set(frame.seq, item);
    item.scrollIntoView({ block: "nearest" });
    if (frame.sender === "customer") {
      this.typingLine.hidden = true;
      if (!quiet) {
        this.flag();
        this.options.announce(`New message from ${this.tabLabel.textContent}`);
      }
    }
  }

  rehighlight() {
    for (const item of this.items.values()) {
      const body = item.querySelector(".text");
      clear(body).appendChild(highlighted(body.dataset.raw, this.entities));
    }
  }

  /** A chat_event frame from /ws/agent. */
  onEvent(event) {
    if (event.type === "message") this.addMessage(event);
    else if (event.type === "typing" && event.sender === "customer") {
      this.typingLine.hidden = false;
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(() => { this.typingLine.hidden = true; }, 4000);
    } else if (event.type === "state") {
      if (this.readOnly) {
        this.banner.textContent = event.state === "agent" ? `With ${event.agent}` : `Now: ${event.state}`;
        this.banner.hidden = false;
      } else if (event.state === "closed" || event.state === "bot") {
        this.end(event.state === "closed" ? "This chat was resolved." : "The chat went back to the bot.");
      }
    }
  }

  flag() {
    if (this.tab.getAttribute("aria-selected") === "true") return;
    this.tabBadge.hidden = false;
    this.tabBadge.textContent = "new";
  }

  select(selected) {
    this.tab.setAttribute("aria-selected", String(selected));
    this.tab.tabIndex = selected ? 0 : -1;
    this.panel.hidden = !selected;
    if (selected) this.tabBadge.hidden = true;
  }

  focus() {
    (this.replyInput && !this.replyInput.disabled ? this.replyInput : this.panel).focus();
  }

  typing() {
    const now = Date.now();
    if (this.ended || now - this.lastTypingSent < TYPING_EVERY_MS) return;
    this.lastTypingSent = now;
    this.options.sendTyping(this.ticketId);
  }

  /** Take the text out of the box at once and post replies one after another, so fast typists keep their order. */
  sendReply() {
    const text = this.replyInput.value.trim();
    if (!text || this.ended) return;
    this.replyInput.value = "";
    this.sending = (this.sending || Promise.resolve()).then(() => this.postReply(text));
  }

  async postReply(text) {
    try {
      const frame = await api("POST", `/tickets/${this.ticketId}/messages`, { text });
      this.addMessage(frame);
      this.error.textContent = "";
      // The first reply stops the SLA clock.
      if (this.ticket && this.ticket.sla_remaining_s !== null) { this.ticket.sla_remaining_s = null; this.renderDetails(); }
    } catch (error) {
      this.fail(error);
      if (!this.replyInput.value) this.replyInput.value = text;  // nothing typed since: give the text back
    }
  }

  fail(error) {
    this.error.textContent = error.message || String(error);
  }

  /** The chat left this agent (resolved, returned, transferred): keep the record, disable the controls. */
  end(text) {
    if (this.ended) {
      // Our own action's answer can arrive after the socket said the chat ended; its wording is more precise.
      this.bannerText.textContent = text;
      return;
    }
    this.ended = true;
    this.bannerText = el("span", {}, text);
    clear(this.banner).appendChild(this.bannerText);
    this.banner.hidden = false;
    this.error.textContent = "";
    for (const control of this.panel.querySelectorAll(".reply-form textarea, .reply-form select, .reply-form button, .actions select, .actions input, .actions textarea, .actions button")) {
      control.disabled = true;
    }
    const closeTab = el("button", { type: "button", className: "close-tab" }, "Close this tab");
    closeTab.addEventListener("click", () => this.options.onClose(this));
    this.banner.append(" ", closeTab);
    this.tabLabel.textContent += " (ended)";
    this.options.onEnded(this);
  }

  remove() {
    this.tab.remove();
    this.panel.remove();
  }
}

function endText(status) {
  return { resolved: "This chat was resolved.", returned: "The chat went back to the bot.", offline: "Offline ticket." }[status]
    || `This chat is ${status}.`;
}

function timeInQueue(ticket) {
  const queued = Date.parse(ticket.queued_at);
  if (ticket.assigned_at) {
    const seconds = (Date.parse(ticket.assigned_at) - queued) / 1000;
    return el("span", { className: "queue-time" }, `waited ${Math.max(0, Math.round(seconds))} s in queue`);
  }
  return el("span", { className: "queue-time", dataset: { since: String(queued), prefix: "waiting " } });
}

export function slaClock(ticket) {
  if (typeof ticket.sla_remaining_s !== "number") {
    return el("span", { className: "sla met" }, ticket.first_response_at || ticket.status === "assigned" ? "SLA: first reply sent" : "no SLA");
  }
  return el("span", {
    className: "sla", dataset: { deadline: String(Date.now() + ticket.sla_remaining_s * 1000), prefix: "SLA: ", warn: "60" },
  });
}

function scoreTable(turns) {
  if (!turns.length) return el("p", { className: "muted" }, "No scores recorded.");
  const detectors = [...new Set(turns.flatMap((t) => Object.keys(t.detectors || {})))];
  const head = el("tr", {}, el("th", { scope: "col" }, "Msg"), el("th", { scope: "col" }, "Top intent"),
    detectors.map((d) => el("th", { scope: "col" }, d.replace(/_/g, " "))));
  const rows = turns.map((turn) => {
    const [intent, p] = Array.isArray(turn.top_intent) ? turn.top_intent : [null, null];
    return el("tr", {},
      el("th", { scope: "row" }, `#${turn.seq}`),
      el("td", {}, intent ? `${intent} ${fmt(p)}` : "—"),
      detectors.map((name) => {
        const s = (turn.detectors || {})[name];
        if (!s) return el("td", {}, "—");
        return el("td", { className: s.fired ? "fired" : "" },
          `${fmt(s.score)} / ${fmt(s.threshold)}`, s.fired ? el("span", { className: "fired-tag" }, " fired") : null);
      }));
  });
  return el("div", { className: "table-scroll" },
    el("table", { className: "grid-table score-table" }, el("thead", {}, head), el("tbody", {}, rows)));
}

function lastThreshold(turns, detector) {
  for (let i = turns.length - 1; i >= 0; i -= 1) {
    const s = (turns[i].detectors || {})[detector];
    if (s && typeof s.threshold === "number") return s.threshold;
  }
  return undefined;
}

function pageLink(url) {
  if (!url) return "—";
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") {
      return el("a", { href: parsed.href, target: "_blank", rel: "noopener noreferrer" }, url);
    }
  } catch (error) { /* not a URL: show it as text */ }
  return String(url);
}

function fmt(value) {
  return typeof value === "number" ? value.toFixed(2) : "—";
}

function safeClass(value) {
  return String(value || "").toLowerCase().replace(/[^a-z0-9_-]/g, "");
}
