// The supervisor's overview: every live chat, queue lengths per team, each agent's load, and SLAs at risk.

import { slaClock } from "./chat.js";
import { clear, el } from "./dom.js";

const $ = (id) => document.getElementById(id);

export function renderOverview(overview, { onWatch }) {
  const chats = clear($("ov-chats").tBodies[0]);
  for (const ticket of overview.chats) {
    const watch = el("button", { type: "button", className: "watch" }, "Watch");
    watch.setAttribute("aria-label", `Watch ticket ${ticket.id}`);
    watch.addEventListener("click", () => onWatch(ticket.id));
    chats.appendChild(el("tr", { dataset: { ticketId: String(ticket.id) } },
      el("th", { scope: "row" }, `#${ticket.id}`),
      el("td", { className: "customer-name" }, (ticket.customer || {}).name || "Anonymous customer"),
      el("td", {}, ticket.status),
      el("td", {}, ticket.assigned_agent || (ticket.offered_to ? `offered to ${ticket.offered_to}` : "—")),
      el("td", {}, ticket.team),
      el("td", {}, el("span", { className: `priority priority-${String(ticket.priority).replace(/[^a-z]/g, "")}` }, ticket.priority)),
      el("td", {}, slaClock(ticket)),
      el("td", {}, watch)));
  }
  if (!overview.chats.length) chats.appendChild(el("tr", {}, el("td", { colspan: 8, className: "muted" }, "No live chats.")));

  const queues = clear($("ov-queues").tBodies[0]);
  const lengths = Object.entries(overview.queue_lengths || {});
  for (const [team, count] of lengths) {
    queues.appendChild(el("tr", {}, el("th", { scope: "row" }, team), el("td", {}, String(count))));
  }
  if (!lengths.length) queues.appendChild(el("tr", {}, el("td", { colspan: 2, className: "muted" }, "Every queue is empty.")));

  const agents = clear($("ov-agents").tBodies[0]);
  for (const agent of overview.agents) {
    agents.appendChild(el("tr", { dataset: { agentId: agent.id } },
      el("th", { scope: "row" }, agent.display_name),
      el("td", {}, agent.role),
      el("td", { className: `status-${String(agent.status).replace(/[^a-z]/g, "")}` }, agent.status),
      el("td", { className: "load" }, `${agent.load} / ${agent.max_chats}`),
      el("td", {}, (agent.teams || []).join(", ") || "—")));
  }

  const risky = clear($("ov-sla"));
  for (const ticket of overview.sla_at_risk || []) {
    risky.appendChild(el("li", {}, `#${ticket.id} (${ticket.team}, ${ticket.priority}) `,
      ticket.sla_breached ? el("strong", { className: "overdue" }, "breached") : el("span", { className: "soon" }, "at risk"),
      " ", slaClock(ticket)));
  }
  if (!(overview.sla_at_risk || []).length) risky.appendChild(el("li", { className: "muted" }, "None."));
}
