"""The agent console in a real browser: the whole handoff from a customer on the demo page to a resolved chat,
transfers, and the supervisor watching a chat read-only."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect

from tests.browser.helpers import ADMIN_PASSWORD, HUMAN_REQUEST

pytestmark = pytest.mark.slow


def test_a_customer_is_handed_to_an_agent_who_replies_and_resolves(pages, server, artifacts):
    agent = pages.agent()
    agent.set_status("online")  # people are in: the handoff is queued, not left as an offline message
    agent.page.get_by_label("Sound on new chat").check()  # a Web Audio beep on arrival; must not break anything
    me = agent.api("GET", "/me")

    customer = pages.customer(
        {"name": "Grace Hopper", "email": "grace@example.com", "attributes": {"plan": "gold"}}
    ).open()
    expect(customer.title).to_have_text("Store assistant (bot)")
    customer.ask_and_wait_for_answer("How long does standard shipping take?")
    expect(customer.bubbles.last).to_have_class(re.compile(r"\bbot\b"))

    customer.say(HUMAN_REQUEST)
    expect(customer.title).to_have_text("Waiting for a person")

    # The chat arrives in the agent's queue live, with the reason it was handed over.
    row = agent.queue_row("Grace Hopper")
    expect(row).to_have_count(1)
    listed = next(t for t in agent.api("GET", "/queue")["queued"] if t["customer"].get("name") == "Grace Hopper")
    assert listed["reason"]
    expect(row.locator(".reason")).to_have_text(listed["reason"])
    expect(row.locator(".priority")).to_have_text(listed["priority"])
    expect(row.locator(".waiting")).to_contain_text("waiting")
    expect(row.locator(".sla")).to_contain_text(re.compile(r"SLA: .* left"))
    # Nobody else is online, so the dispatcher offers it to us, with a countdown and a way to decline.
    expect(row.locator(".offer-line")).to_contain_text(re.compile(r"Offered to you — accept within \d+ s"))
    expect(row.get_by_role("button", name="Decline")).to_be_visible()
    agent.page.screenshot(path=str(artifacts / "console-queue.png"), full_page=True)

    panel = agent.accept(row)
    expect(row).to_have_count(0)
    transcript = panel.locator(".transcript")
    expect(transcript.locator(".message.customer .text", has_text=HUMAN_REQUEST)).to_have_count(1)
    expect(panel.locator(".why .reason")).to_have_text(listed["reason"])
    expect(panel.locator(".customer-name")).to_have_text("Grace Hopper")
    expect(panel.locator(".customer-email")).to_have_text("grace@example.com")
    expect(panel.locator(".customer-page")).to_contain_text(server.base)
    expect(panel.locator(".attr-key")).to_have_text(["plan"])
    expect(panel.locator(".attr-value")).to_have_text(["gold"])
    ticket = agent.api("GET", f"/tickets/{listed['id']}")
    # Every detector's scores for every customer turn, and one chart point per customer turn.
    detectors = {name for turn in ticket["package"]["turn_scores"] for name in turn["detectors"]}
    assert detectors, "the package carries no detector scores"
    expect(panel.locator(".score-table tbody tr")).to_have_count(len(ticket["package"]["turn_scores"]))
    expect(panel.locator(".score-table thead th")).to_have_count(2 + len(detectors))
    expect(panel.locator(".score-table td.fired")).not_to_have_count(0)
    expect(panel.locator("svg.sentiment-chart circle")).to_have_count(len(ticket["package"]["sentiment_trajectory"]))
    expect(panel.locator(".summary-text")).not_to_be_empty()

    # The customer sees who joined, and the agent's typing and reply.
    expect(customer.title).to_have_text(f"{me['display_name']} (person)")
    agent_reply = "Hi Grace, I'm here to help with your shipping question."
    reply_box = panel.get_by_label("Reply to the customer")
    reply_box.press_sequentially("Hi Grace", delay=20)
    expect(customer.typing).to_be_visible()
    expect(customer.typing).to_contain_text("is typing")
    reply_box.fill(agent_reply)
    reply_box.press("Enter")
    reply_bubble = customer.bubble(agent_reply)
    expect(reply_bubble).to_have_count(1)
    expect(reply_bubble).to_have_class(re.compile(r"\bagent\b"))
    expect(reply_bubble.locator(".from")).to_have_text(f"{me['display_name']} (person)")
    expect(transcript.locator(".message.agent .text", has_text=agent_reply)).to_have_count(1)
    expect(panel.locator(".chat-meta .sla")).to_have_text("SLA: first reply sent")

    # The customer's answer arrives in the console live, their typing too.
    customer.page.wait_for_timeout(2100)  # the widget sends typing at most every 2 s
    customer.input.press_sequentially("Thanks", delay=20)
    expect(panel.locator(".typing")).to_be_visible()
    customer.input.press("Enter")
    expect(transcript.locator(".message.customer .text", has_text="Thanks")).to_have_count(1)

    # An internal note shows in the console, marked internal, and never reaches the customer.
    panel.get_by_label("Add an internal note").fill("Customer is a gold member; check the express option.")
    panel.get_by_role("button", name="Add note").click()
    note = panel.locator(".notes .note", has_text="gold member")
    expect(note).to_have_count(1)
    expect(note.locator(".internal-tag")).to_have_text("Internal")

    agent.page.screenshot(path=str(artifacts / "console-chat.png"), full_page=True)
    customer.page.screenshot(path=str(artifacts / "widget.png"))

    panel.get_by_label("Yes, the handoff was needed").check()
    panel.get_by_label("Comment (optional)").fill("Wanted a person for shipping options.")
    panel.get_by_role("button", name="Resolve chat").click()
    expect(panel.locator(".chat-banner")).to_contain_text("Resolved (handoff needed)")
    expect(reply_box).to_be_disabled()
    expect(customer.status).to_have_text("This chat was resolved. Write again any time.")
    resolved = agent.api("GET", f"/tickets/{listed['id']}")
    assert (resolved["status"], resolved["needed"]) == ("resolved", True)
    assert "gold member" not in " ".join(text for _, text in customer.texts())


def test_an_agent_transfers_a_chat_to_a_supervisor_who_watched_it_read_only(pages, server):
    admin = pages.agent()
    created = admin.page.request.post(
        server.base + "/api/agent/agents",
        data={"id": "bea", "display_name": "Bea", "role": "agent", "teams": ["orders"], "password": "bea-password-1"},
    )
    assert created.status in (201, 409, 422), created.text()
    admin.set_status("away")
    bea = pages.agent("bea", "bea-password-1")
    bea.set_status("online")

    customer = pages.customer({"name": "Linus Watched"}).open()
    customer.say(HUMAN_REQUEST)
    panel = bea.accept(bea.queue_row("Linus Watched"))
    ticket_id = int(panel.get_attribute("data-ticket-id"))

    # The supervisor sees the live chat and Bea's load, and watches without reply controls.
    admin.page.get_by_role("button", name="Supervisor").click()
    chat_row = admin.page.locator(f"#ov-chats tr[data-ticket-id='{ticket_id}']")
    expect(chat_row).to_contain_text("bea")
    expect(admin.page.locator("#ov-agents tr[data-agent-id='bea'] .load")).to_have_text(re.compile(r"^[1-9]\d* / 3$"))
    chat_row.get_by_role("button", name=f"Watch ticket {ticket_id}").click()
    watched = admin.chat_panel(ticket_id)
    expect(watched).to_be_visible()
    expect(watched.locator(".readonly-note")).to_be_visible()
    expect(watched.locator(".reply-form")).to_have_count(0)
    expect(watched.locator(".actions")).to_have_count(0)
    customer.say("Is anyone watching this?")
    expect(watched.locator(".message.customer .text", has_text="Is anyone watching this?")).to_have_count(1)
    bea_panel = bea.chat_panel(ticket_id)
    bea_panel.get_by_label("Reply to the customer").fill("Yes, Bea here.")
    bea_panel.get_by_role("button", name="Send").click()
    expect(watched.locator(".message.agent .text", has_text="Yes, Bea here.")).to_have_count(1)

    # Bea hands the chat up; the supervisor now holds it with full controls, and the customer is told.
    admin.set_status("online")
    bea_panel.get_by_label("To", exact=True).select_option("supervisor")
    bea_panel.get_by_label("Note for the next person").fill("Needs a refund above my limit.")
    bea_panel.get_by_role("button", name="Transfer").click()
    expect(bea_panel.locator(".chat-banner")).to_contain_text("Transferred to a supervisor")
    held = admin.chat_panel(ticket_id)
    expect(held.locator(".reply-form")).to_have_count(1)
    expect(held.locator(".notes .note", has_text="Needs a refund above my limit.")).to_have_count(1)
    expect(customer.title).to_have_text(f"{admin.api('GET', '/me')['display_name']} (person)")

    held.get_by_role("button", name="Return to bot").click()
    expect(held.locator(".chat-banner")).to_contain_text("Handed back to the bot")
    expect(customer.title).to_have_text("Store assistant (bot)")
    bea.set_status("away")  # leave nobody but the admin online for the tests after this one


def test_out_of_hours_a_customer_leaves_an_email_that_the_agent_follows_up_and_closes(pages):
    agent = pages.agent()
    agent.set_status("away")
    assert not [a for a in agent.api("GET", "/agents") if a["status"] == "online"], "someone is still online"

    customer = pages.customer({"name": "Nora Offline"}).open()
    customer.say(HUMAN_REQUEST)
    expect(customer.bubbles.filter(has_text="Nobody from our team is available")).to_have_count(1)
    customer.say("Please write to nora@example.com about my missing parcel.")
    expect(customer.bubbles.filter(has_text="We'll reply to nora@example.com")).to_have_count(1)

    row = agent.page.locator("#offline-list .queue-row").filter(has_text="Nora Offline")
    expect(row.locator(".contact-email")).to_have_text("nora@example.com")
    expect(row.locator(".contact-message")).to_contain_text("missing parcel")
    row.get_by_label("Follow-up comment (optional)").fill("Emailed her the tracking link.")
    row.get_by_role("button", name=re.compile("^Close offline ticket")).click()
    expect(row).to_have_count(0)


def test_a_401_sends_the_agent_back_to_the_login_form(pages):
    agent = pages.agent()
    expect(agent.page.locator("#app-view")).to_be_visible()
    agent.page.context.clear_cookies()
    agent.page.get_by_label("Status").select_option("away")  # any call now answers 401
    expect(agent.page.locator("#login-view")).to_be_visible()
    expect(agent.page.get_by_label("User name")).to_be_focused()
    # Keyboard only: the form is reachable and submits without a mouse.
    agent.page.keyboard.press("Control+A")  # the field keeps the last user name
    agent.page.keyboard.type("admin")
    agent.page.keyboard.press("Tab")
    agent.page.keyboard.type(ADMIN_PASSWORD)
    agent.page.keyboard.press("Enter")
    expect(agent.page.locator("#socket-state")).to_have_text("Live")
    expect(agent.page.locator("#queue-title")).to_be_focused()
    agent.page.get_by_role("button", name="Log out").click()
    expect(agent.page.locator("#login-view")).to_be_visible()
    expect(agent.page.locator("#login-error")).to_have_text("You are logged out.")
