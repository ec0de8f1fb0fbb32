"""ChMOCoder: a local-first AI code assistant served over the Language Server Protocol."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("chmocoder")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
