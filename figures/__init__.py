"""Figures for writers: read published release bundles, never the warehouse."""
