"""Web plumbing: access per role, limits, logs, serving, stalls, pages, workers, the OpenAPI contract."""
