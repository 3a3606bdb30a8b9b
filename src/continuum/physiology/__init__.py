"""Circuit and patient physiology: plain functions on plain floats, plus calculator wrappers."""
