"""The agents' side: HTTP and websocket routes for the console, and the console's page."""
