// What a host page knows about its visitor; the widget passes it to the agent with the chat.
window.escalatorCustomer = { name: "Demo Customer", email: "demo.customer@example.com", attributes: { plan: "member", cart_items: 2 } };
