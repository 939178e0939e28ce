"""The integration suite's fixtures (template data directory with users and tokens, `make_server`,
`server`) and helpers (sbhelpers, hooks), for the other Python suites (crash, attack) to reuse
without copying them: their conftest.py imports this."""

import importlib.util
import sys
from pathlib import Path

INTEGRATION = Path(__file__).resolve().parent / "integration"
sys.path.insert(0, str(INTEGRATION))

_spec = importlib.util.spec_from_file_location("sb_integration_conftest", INTEGRATION / "conftest.py")
_integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_integration)

template = _integration.template
make_server = _integration.make_server
server = _integration.server
