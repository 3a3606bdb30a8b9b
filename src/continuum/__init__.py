"""ECMO Continuum: the perfusionist's expertise across the whole ECMO continuum."""

__version__ = "0.1.0"
