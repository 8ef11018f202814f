"""The zone layer: the live version, uploads, drafts and publication, coverage analysis, downloads, the JSON API, OGC, maps and the planners' pages."""
