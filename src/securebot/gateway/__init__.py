"""``securebot gateway``: the HTTPS endpoint that serves encrypted exports to their owners.

* :func:`create_app` builds the aiohttp application (``GET /exports/{id}?token=...``);
* :func:`serve` runs it (HTTPS with HSTS when a TLS context is given).

Imports :mod:`securebot.exports`, :mod:`securebot.core` and :mod:`securebot.crypto` only.
"""

from securebot.gateway.app import ExportGateway, create_app
from securebot.gateway.server import serve

__all__ = ["ExportGateway", "create_app", "serve"]
