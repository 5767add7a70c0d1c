"""Page objects for the browser tests: the customer's widget on the demo page, and the agent console."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    WebSocketRoute,
    expect,
)

ADMIN_PASSWORD = "browser-test-admin-secret"
HUMAN_REQUEST = "I want to talk to a human"


class Contexts:
    """Opens one browser context per person and records what must never happen in any of them:
    a dialog, an uncaught page error, or a Content-Security-Policy violation."""

    def __init__(self, browser: Browser, base: str) -> None:
        self.browser = browser
        self.base = base
        self.contexts: list[BrowserContext] = []
        self.dialogs: list[str] = []
        self.page_errors: list[str] = []
        self.csp_violations: list[str] = []

    def new_page(self, init_script: str | None = None, **context_options: Any) -> Page:
        context = self.browser.new_context(viewport={"width": 1400, "height": 900}, **context_options)
        self.contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("console", self._on_console)
        return page

    def customer(self, customer: dict[str, Any] | None = None, **context_options: Any) -> Widget:
        return Widget(self.new_page(customer_script(customer), **context_options), self.base)

    def agent(self, username: str = "admin", password: str = ADMIN_PASSWORD, **context_options: Any) -> Console:
        console = Console(self.new_page(**context_options), self.base)
        console.login(username, password)
        return console

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _on_console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"dialogs fired: {self.dialogs}"
        assert self.page_errors == [], f"uncaught errors in a page: {self.page_errors}"
        assert self.csp_violations == [], f"CSP violations: {self.csp_violations}"


def customer_script(customer: dict[str, Any] | None) -> str | None:
    """An init script that fixes window.escalatorCustomer before any page script runs.

    The demo page assigns its own customer in demo.js; a getter with a no-op setter keeps ours."""
    if customer is None:
        return None
    return (
        "(() => { const customer = " + json.dumps(customer) + ";"
        " Object.defineProperty(window, 'escalatorCustomer', {get: () => customer, set: () => {}, configurable: false}); })();"
    )


class Widget:
    """The demo store page with the chat widget (all of it inside an open shadow root, which locators pierce)."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.root = page.locator("#escalator-widget")
        self.bubbles = self.root.locator(".log .msg")
        self.title = self.root.locator("#title")
        self.status = self.root.locator("#status")
        self.input = self.root.locator("textarea")
        self.typing = self.root.locator(".typing")

    def open(self) -> Widget:
        self.page.goto(self.base + "/")
        self.root.locator(".launcher").click()
        expect(self.root.locator(".panel")).to_be_visible()
        expect(self.bubbles.first).to_contain_text("bot")  # the greeting says it is a bot
        return self

    def say(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def bubble(self, text: str) -> Locator:
        return self.bubbles.filter(has=self.page.locator(".text", has_text=text))

    def texts(self) -> list[tuple[str, str]]:
        """(sender class, text) of every bubble, in order."""
        return self.root.locator(".log .msg").evaluate_all(
            "items => items.map(m => [m.className.replace('msg ', ''), m.querySelector('.text').textContent])"
        )

    def ask_and_wait_for_answer(self, text: str) -> None:
        """Send a message and wait until a bot (or system) answer follows it."""
        before = self.bubbles.count()
        self.say(text)
        expect(self.bubbles).to_have_count(before + 2)
        expect(self.bubble(text).locator(".delivery")).to_have_text("Delivered")


class Console:
    """The agent console at /console."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base

    def login(self, username: str, password: str) -> None:
        self.page.goto(self.base + "/console")
        self.page.get_by_label("User name").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        expect(self.page.locator("#whoami")).to_contain_text("(")
        expect(self.page.locator("#socket-state")).to_have_text("Live")

    def set_status(self, status: str) -> None:
        with self.page.expect_response(lambda r: r.url.endswith("/api/agent/status") and r.ok):
            self.page.get_by_label("Status").select_option(status)

    def queue_row(self, customer_name: str) -> Locator:
        return self.page.locator("#queue-list .queue-row").filter(
            has=self.page.locator(".customer-name", has_text=re.compile("^" + re.escape(customer_name) + "$"))
        )

    def accept(self, row: Locator) -> Locator:
        """Accept the chat in this queue row; return its chat panel."""
        ticket_id = row.get_attribute("data-ticket-id")
        row.get_by_role("button", name=re.compile("^Accept")).click()
        panel = self.chat_panel(int(ticket_id))
        expect(panel).to_be_visible()
        return panel

    def chat_panel(self, ticket_id: int) -> Locator:
        return self.page.locator(f".chat-panel[data-ticket-id='{ticket_id}']")

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The agents' API with this browser's session cookie."""
        response = self.page.request.fetch(self.base + "/api/agent" + path, method=method, data=body)
        assert response.ok, f"{method} {path}: {response.status} {response.text()}"
        return response.json()


@dataclass
class SocketSwitch:
    """Sits between the widget and /ws/chat (Playwright's WebSocket routing): records every frame both ways,
    can drop the live connection at a chosen moment, and can refuse new connections as if the network were down."""

    offline: bool = False
    page_frames: list[dict[str, Any]] = field(default_factory=list)
    server_frames: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0
    drop_after_ack_of: str | None = None  # forward the ack for the message with this text, then drop
    drop_instead_of_ack_of: str | None = None  # drop when the ack for this text arrives, without forwarding it
    _live: tuple[WebSocketRoute, WebSocketRoute] | None = None
    _ids: dict[str, str] = field(default_factory=dict)

    def route(self, page_side: WebSocketRoute) -> None:
        if self.offline:
            page_side.close(code=4000, reason="test: network down")
            return
        self.connections += 1
        server_side = page_side.connect_to_server()
        link = (page_side, server_side)
        self._live = link
        page_side.on_message(lambda message: self._from_page(link, message))
        server_side.on_message(lambda message: self._from_server(link, message))

    def drop(self) -> None:
        """Close the live connection on both sides, like a network failure."""
        link, self._live = self._live, None
        if link is not None:
            page_side, server_side = link
            server_side.close()
            page_side.close(code=4000, reason="test: connection dropped")

    def hellos(self) -> list[dict[str, Any]]:
        return [f for f in self.page_frames if f.get("type") == "hello"]

    def _from_page(self, link: tuple[WebSocketRoute, WebSocketRoute], message: str | bytes) -> None:
        if link is not self._live:
            return
        frame = json.loads(message)
        self.page_frames.append(frame)
        if frame.get("type") == "message":
            self._ids[frame["client_msg_id"]] = frame["text"]
        link[1].send(message)

    def _from_server(self, link: tuple[WebSocketRoute, WebSocketRoute], message: str | bytes) -> None:
        if link is not self._live:
            return  # frames after a drop never reach the page
        frame = json.loads(message)
        self.server_frames.append(frame)
        acked_text = self._ids.get(frame.get("client_msg_id", "")) if frame.get("type") == "ack" else None
        if acked_text is not None and acked_text == self.drop_instead_of_ack_of:
            self.drop_instead_of_ack_of = None
            self.drop()
            return
        link[0].send(message)
        if acked_text is not None and acked_text == self.drop_after_ack_of:
            self.drop_after_ack_of = None
            self.drop()
