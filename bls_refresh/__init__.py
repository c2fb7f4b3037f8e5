"""bls-refresh, the application: the command line that composes flows, figures and the
warehouse. Nothing below it imports it."""

from core import __version__

__all__ = ["__version__"]
