"""The zone layer: publication, drafts, the planners' pages, findings in the page's language, the coverage scope."""
