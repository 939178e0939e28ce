"""Reuses the integration suite's fixtures and helpers (tests/reuse_integration.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reuse_integration import make_server, server, template  # noqa: E402,F401
