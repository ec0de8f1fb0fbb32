"""ChMOCoder: a local-first AI code assistant served over the Language Server Protocol."""

__version__ = "0.1.0"
"""The package's version (pyproject.toml reads it from here): written out, not looked up
in the installed metadata, which costs the server's start-up about 30 ms."""
