"""The web service: Flask app, persistence, auth, OpenAPI, Open311, and the command line."""
