"""Ambulation: ECMO mobilisation and physiotherapy sessions (docs/ambulation.md)."""
