"""How the browser tests start Debian's Chromium (never a downloaded browser).

The flags keep a headless Chromium off the network it cannot reach here (background
networking, component updates, sync) and working as root in a container.
"""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("LLMLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
