"""Customer messages of typical length for the benchmarks (written for this project)."""

SAMPLE_MESSAGES = [
    "Where is my order? It was supposed to arrive on Monday.",
    "Can I return a jacket I bought three weeks ago if I already wore it once?",
    "my card got declined twice, what is going on",
    "I want to talk to a real person right now",
    "How long does a refund take to show up on my statement?",
    "Do you ship to Canada and how much does it cost?",
    "The zipper on my new backpack broke after two days, this is ridiculous.",
    "thanks, that helped a lot!",
    "How do I change the email address on my account?",
    "Is the Basecamp 2 tent back in stock in green?",
    "I've asked three times already and you keep sending me the same link.",
    "Can you book me a table for two at an Italian restaurant tonight?",
]
