"""The shared base every layer may use: errors, the data dir's layout, the refresh lock and
the staged-table types. It imports nothing else of ours."""

__version__ = "0.1.0"
