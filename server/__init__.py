"""Exit Now: emergency evacuation coordination.

This module stays free of imports beyond the standard library: `python -m server` imports the
package before `__main__` runs, and eventlet must monkey-patch before Flask and friends load.
"""

from __future__ import annotations

import warnings


def quiet_eventlet_notice() -> None:
    """eventlet warns on import that it is in bugfix mode; docs/architecture.md knows, operators need not."""
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")


def create_app(settings=None, run_native=None):
    """Build the Flask app (with its SocketIO extension at app.extensions['socketio']);
    `run_native(function, *args)` runs blocking disk work off the event loop."""
    from .app import build_app
    from .basics.settings import load_settings
    from .store.writer import run_here

    quiet_eventlet_notice()
    if settings is None:
        # `flask --app server ...` builds the app this way: a command-line process serves no
        # sockets, and without eventlet's monkey-patching its writer task would never run.
        settings = load_settings().with_changes(async_mode="threading")
    return build_app(settings, run_native or run_here)
