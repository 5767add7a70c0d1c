"""Hostile text stays text in the widget and the console, and the pages carry their Content-Security-Policy."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect

from tests.browser.helpers import HUMAN_REQUEST

pytestmark = pytest.mark.slow

# Each payload, if it were ever parsed as HTML or followed as a link, would set window.__xss or open a dialog.
PAYLOADS = [
    "<script>window.__xss = 'script'</script>",
    "<img src=x onerror=\"window.__xss='img'\">",
    "<svg onload=\"window.__xss='svg'\"></svg>",
    "<a href=\"javascript:window.__xss='link'\">click me</a>",
    '"><iframe srcdoc="<script>parent.__xss=\'iframe\'</script>"></iframe>',
    "<details open ontoggle=alert('details')>x</details>",
]
NAME = "<img src=x onerror=\"window.__xss='name'\">Mallory"
EMAIL = '"><svg onload="window.__xss=\'email\'">@example.com'
ATTRIBUTES = {
    "<script>window.__xss='key'</script>": "<a href=\"javascript:window.__xss='attr'\">account</a>",
    "homepage": "javascript:window.__xss='homepage'",
}


def test_hostile_text_is_shown_as_literal_text_in_the_widget_and_the_console(pages):
    # CSP off in these pages: the test checks the rendering itself, not the header that backs it up.
    agent = pages.agent(bypass_csp=True)
    agent.set_status("online")
    customer = pages.customer({"name": NAME, "email": EMAIL, "attributes": ATTRIBUTES}, bypass_csp=True).open()
    # Gibberish like this is out of scope for the bot, so the chat may be handed over before the explicit request.
    for text in [*PAYLOADS, HUMAN_REQUEST]:
        customer.say(text)
        expect(customer.bubble(text).locator(".delivery")).to_have_text("Delivered")
    expect(customer.title).to_have_text("Waiting for a person")

    row = agent.queue_row(NAME)
    expect(row).to_have_count(1)
    listed = next(t for t in agent.api("GET", "/queue")["queued"] if t["customer"].get("name") == NAME)
    expect(row.locator(".reason")).to_have_text(listed["reason"])  # the reason may quote the customer
    panel = agent.accept(row)
    transcript = panel.locator(".transcript .message.customer .text")
    expect(transcript).to_have_text([*PAYLOADS, HUMAN_REQUEST])
    expect(panel.locator(".customer-name")).to_have_text(NAME)
    expect(panel.locator(".customer-email")).to_have_text(EMAIL)
    expect(panel.locator(".attr-key")).to_have_text(list(ATTRIBUTES))
    expect(panel.locator(".attr-value")).to_have_text(list(ATTRIBUTES.values()))

    reply = panel.get_by_label("Reply to the customer")
    for payload in PAYLOADS[:3]:
        reply.fill(payload)
        reply.press("Enter")
    panel.get_by_label("Add an internal note").fill(PAYLOADS[3])
    panel.get_by_role("button", name="Add note").click()
    expect(panel.locator(".note-text")).to_have_text([PAYLOADS[3]])
    expect(customer.root.locator(".log .msg.agent .text")).to_have_text(PAYLOADS[:3])
    expect(customer.root.locator(".log .msg.customer .text")).to_have_text([*PAYLOADS, HUMAN_REQUEST])

    # Nothing became markup: no element a payload could have created exists in either page.
    assert customer.root.locator(".log").locator("img, script, svg, iframe, a, details").count() == 0
    assert agent.page.locator("#main").locator("img, script, iframe, details").count() == 0
    assert agent.page.locator("#main svg:not(.sentiment-chart)").count() == 0
    assert agent.page.locator("a[href^='javascript:' i]").count() == 0
    assert customer.page.locator("a[href^='javascript:' i]").count() == 0
    for page in (customer.page, agent.page):
        page.wait_for_timeout(300)  # give an injected handler its chance to fire
        assert page.evaluate("window.__xss") is None
    panel.get_by_label("No, the bot could have handled it").check()
    panel.get_by_role("button", name="Resolve chat").click()
    expect(panel.locator(".chat-banner")).to_contain_text("Resolved (handoff not needed)")


def test_the_pages_send_a_strict_content_security_policy(pages, server):
    page = pages.new_page()
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(server.base + "/")
    page.locator("#escalator-widget .launcher").click()
    expect(page.locator("#escalator-widget .log .msg").first).to_be_visible()
    page.goto(server.base + "/console")
    expect(page.get_by_label("User name")).to_be_visible()

    own = [r for r in responses if r.url.startswith(server.base)]
    paths = {r.url.removeprefix(server.base) for r in own}
    assert {"/", "/widget.js", "/demo.js", "/console", "/console/console.js", "/console/console.css"} <= paths
    for response in own:
        policy = response.header_value("content-security-policy") or ""
        directives = {d.strip().split(" ")[0]: d.strip() for d in policy.split(";") if d.strip()}
        assert directives.get("object-src") == "object-src 'none'", response.url
        assert directives.get("base-uri") == "base-uri 'none'", response.url
        assert directives.get("script-src") == "script-src 'self'", response.url
        if response.url.removeprefix(server.base).startswith("/console"):
            assert directives.get("frame-ancestors") == "frame-ancestors 'none'", response.url
