"""Web plumbing every feature shares: configuration, errors, security headers, assets, languages, rate limits, serving, the base layout."""
