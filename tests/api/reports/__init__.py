"""Reports through the closed loop: the API, consoles, outbox, privacy, Open311, load, and the pages in a browser."""
