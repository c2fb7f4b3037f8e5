"""bls-refresh: keeps BLS occupational projections and OEWS wage figures fresh."""

__version__ = "0.1.0"
