"""Web layer: layout templates, static assets, authentication, shared page helpers."""
