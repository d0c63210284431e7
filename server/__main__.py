"""`python -m server [--demo] [--host H] [--port P]`: run Exit Now.

The only place that imports eventlet or gevent: they must monkey-patch the standard library
before anything else loads, so the async mode is chosen here, first.
"""

from __future__ import annotations

import argparse

from . import quiet_eventlet_notice
from .settings import load_settings, record_address


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m server", description="Run Exit Now.")
    parser.add_argument(
        "--demo", action="store_true", help="seed the demo site when the database is empty"
    )
    parser.add_argument("--host", help="address to listen on (default $HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default $PORT or 5000)")
    args = parser.parse_args(argv)
    settings = load_settings(host=args.host, port=args.port)
    patch_for(settings.async_mode)

    from . import create_app, demo, timers
    from .cli import print_links

    app = create_app(settings, native_runner(settings.async_mode))
    services = app.extensions["exitnow"]
    if args.demo and demo.is_empty(services):
        print_links(demo.seed(services))
    timers.start(services)
    record_address(settings)
    print(
        f"Exit Now serving on http://{settings.host}:{settings.port} ({settings.async_mode})",
        flush=True,
    )
    serve(app, settings)


def patch_for(async_mode: str) -> None:
    quiet_eventlet_notice()
    if async_mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()
    elif async_mode == "gevent":
        from gevent import monkey

        monkey.patch_all()


def native_runner(async_mode: str):
    """How to run blocking disk work (the writer's fsync, snapshot files) in a native thread
    while the event loop goes on; None in threading mode, where every request has a thread."""
    if async_mode == "eventlet":
        from eventlet import tpool

        return tpool.execute
    if async_mode == "gevent":
        import gevent

        return lambda function, *args: gevent.get_hub().threadpool.apply(function, args)
    return None


def serve(app, settings) -> None:
    socketio = app.extensions["socketio"]
    if settings.async_mode == "eventlet":
        import eventlet
        import eventlet.wsgi

        # eventlet.listen's default backlog (50) makes phones that connect at once wait
        # for SYN retries, and its WSGI pool stops at 1024: size both for a site's phones.
        listener = eventlet.listen((settings.host, settings.port), backlog=settings.listen_backlog)
        eventlet.wsgi.server(listener, app, max_size=settings.max_connections, log_output=False)
    else:
        socketio.run(
            app,
            host=settings.host,
            port=settings.port,
            log_output=False,
            allow_unsafe_werkzeug=True,
        )


if __name__ == "__main__":
    main()
