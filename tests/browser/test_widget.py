"""The website widget in a real browser: resuming after dropped connections with no gap and no duplicate."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect

from tests.browser.helpers import SocketSwitch

pytestmark = pytest.mark.slow


def test_the_widget_resumes_after_dropped_connections_without_gaps_or_duplicates(pages):
    switch = SocketSwitch()
    customer = pages.customer({"name": "Ada Reconnect"})
    customer.page.route_web_socket(re.compile(r"/ws/chat$"), switch.route)
    customer.open()
    customer.ask_and_wait_for_answer("How long does standard shipping take?")
    first_hello = switch.hellos()[0]
    assert first_hello["conversation_id"] is None and first_hello["last_seq"] == 0

    # 1. The connection drops right after the ack: the echo and the bot's answer are produced while we are away.
    shown_seq = max(f["seq"] for f in switch.server_frames if f.get("type") == "message")
    switch.drop_after_ack_of = "Do you ship to Canada?"
    before = customer.bubbles.count()
    customer.say("Do you ship to Canada?")
    expect(customer.bubbles).to_have_count(before + 2)  # our message, then the answer we missed, once each
    resumed = switch.hellos()[-1]
    assert switch.connections == 2
    assert resumed["conversation_id"] == switch.server_frames[0]["conversation_id"]
    assert resumed["last_seq"] == shown_seq
    welcome = [f for f in switch.server_frames if f.get("type") == "welcome"][-1]
    assert welcome["resumed"] is True

    # 2. The network is down while the customer writes: the message waits, then goes exactly once.
    switch.offline = True
    switch.drop()
    expect(customer.status).to_have_text("Reconnecting…")
    offline_text = "I typed this while offline"
    customer.say(offline_text)
    expect(customer.bubble(offline_text).locator(".delivery")).to_have_text("Sending…")
    customer.page.wait_for_timeout(1500)  # a few refused reconnects
    before = customer.bubbles.count()
    switch.offline = False
    expect(customer.bubble(offline_text).locator(".delivery")).to_have_text("Delivered", timeout=30_000)
    expect(customer.bubbles).to_have_count(before + 1)  # the bot's answer; our bubble was already there
    expect(customer.bubble(offline_text)).to_have_count(1)

    # 3. The ack is lost with the connection: the widget sends the message again under the same id, stored once.
    lost_ack = "Can I return boots after 30 days?"
    switch.drop_instead_of_ack_of = lost_ack
    before = customer.bubbles.count()
    customer.say(lost_ack)
    expect(customer.bubble(lost_ack).locator(".delivery")).to_have_text("Delivered", timeout=30_000)
    expect(customer.bubbles).to_have_count(before + 2)
    sends = [f for f in switch.page_frames if f.get("type") == "message" and f["text"] == lost_ack]
    assert len(sends) == 2 and sends[0]["client_msg_id"] == sends[1]["client_msg_id"]
    acks = [
        f["seq"]
        for f in switch.server_frames
        if f.get("type") == "ack" and f["client_msg_id"] == sends[0]["client_msg_id"]
    ]
    assert len(set(acks)) == 1

    # What the widget shows equals what the server stored: a reload replays the whole transcript from seq 0.
    shown = customer.texts()
    assert len({text for sender, text in shown if sender == "customer"}) == len(
        [s for s, _ in shown if s == "customer"]
    )
    customer.page.reload()
    expect(customer.bubbles).to_have_count(len(shown))
    assert customer.texts() == shown
    assert switch.hellos()[-1]["last_seq"] == 0


def test_the_host_pages_styles_do_not_reach_into_the_widget(pages):
    # demo.html styles every div and button aggressively, on purpose.
    customer = pages.customer().open()
    bubble = customer.bubbles.first
    assert bubble.evaluate("e => getComputedStyle(e).letterSpacing") == "normal"
    send = customer.root.get_by_role("button", name="Send")
    assert send.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(31, 95, 139)"
    assert send.evaluate("e => getComputedStyle(e).fontSize") == "14px"
