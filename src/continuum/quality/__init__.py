"""Quality: adverse events, M&M case packets and reviews, programme metrics and audits.

The programme's learning loop, with the perfusionist's input a named, counted part of every
review. ``taxonomy`` is pure data (no database); the other modules are the domain's models,
services and routes (docs/extending.md).
"""
