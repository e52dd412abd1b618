"""The server fixtures of tests/serve, shared with the hot-path guard."""

from tests.serve.conftest import matrix

__all__ = ["matrix"]
