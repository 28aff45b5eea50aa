"""Prints the AsyncAPI 3.0 document Chanx generates for the parity app (``app.py``), as JSON.

``python export.py`` from ``tests/parity/`` (or with that folder on ``sys.path``). The server
entry is fixed so the output does not depend on where the app would run.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chanx.asyncapi.generator import AsyncAPIGenerator  # noqa: E402
from chanx.fast_channels.discovery import FastAPIRouteDiscovery  # noqa: E402

from app import app  # noqa: E402

document = AsyncAPIGenerator(
    FastAPIRouteDiscovery(app).discover_routes(),
    title="Parity AsyncAPI documentation",
    version=app.version,
    description="",
    server_url="localhost:8000",
    server_protocol="ws",
).generate()
print(json.dumps(document, indent=2))
