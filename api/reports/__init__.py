"""Citizens' reports through the closed loop: intake, workflow, photos, notifications, queries, the JSON API, Open311 and the pages."""
