"""`python -m server [--demo] [--host H] [--port P]`: run Exit Now.

The only place that imports eventlet or gevent: they must monkey-patch the standard library
before anything else loads, so the async mode is chosen here, first.
"""

from __future__ import annotations

import argparse
import sys

from . import quiet_eventlet_notice
from .basics.settings import load_settings, record_address
from .live import frames
from .store import integrity


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m server", description="Run Exit Now.")
    parser.add_argument(
        "--demo", action="store_true", help="seed the demo site when the database is empty"
    )
    parser.add_argument("--host", help="address to listen on (default $HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default $PORT or 5000)")
    parser.add_argument(
        "--check", action="store_true", help="only check the database, as a start does"
    )
    args = parser.parse_args(argv)
    settings = load_settings(host=args.host, port=args.port)
    if args.check:
        sys.exit(check_only(settings))
    refuse_what_cannot_work(settings)
    patch_for(settings.async_mode)

    from . import create_app, demo, timers
    from .cli import print_links

    app = create_app(settings, native_runner(settings.async_mode))
    services = app.extensions["exitnow"]
    if args.demo and demo.is_empty(services):
        print_links(demo.seed(services))
    elif args.demo:
        # Started again on the same database: the first links may be used or lost.
        print(f"The demo site is already in {settings.db_path}.", flush=True)
        links = demo.fresh_links(services)
        if links:
            print_links(links)
        else:
            print(DEMO_HINT, flush=True)
    timers.start(services)
    record_address(settings)
    print(
        f"Exit Now serving on http://{settings.host}:{settings.port} ({settings.async_mode})",
        flush=True,
    )
    serve(app, settings)


DEMO_HINT = (
    "Every demo person has a phone enrolled. A new link for one of them: "
    "flask --app server enrollment-link --site demo --staff-id N"
)


def check_only(settings) -> int:
    whole, said = integrity.check_on_demand(settings)
    print(said)
    return 0 if whole else 1


def refuse_what_cannot_work(settings) -> None:
    """Before anything opens the database: a read-only or damaged file, or a key file that
    cannot be read, stops the start with a message that names it and the way back
    (server/store/integrity.py); an unwritable public folder is said, and /readyz is red."""
    if not settings.database_url:  # the SQLite file's own checks
        unwritable = integrity.unwritable_database(settings.db_path)
        if unwritable:
            sys.exit(f"Exit Now will not start: {unwritable}.")
        problems = integrity.database_problems(settings.db_path)
        if problems:
            report = integrity.damage_report(settings.db_path, problems)
            sys.exit("Exit Now will not start: " + report)
    else:
        refuse_a_damaged_postgres(settings)
    for problem in integrity.key_file_problems(settings.db_path):
        sys.exit(f"Exit Now will not start: {problem}.")
    lost = integrity.lost_signing_key(
        settings.db_path, settings.new_log_key == "yes", settings.database_url
    )
    if lost:
        sys.exit(f"Exit Now will not start: {lost}.")
    public = integrity.unwritable_public_folder(settings.public_dir)
    if public:
        print(f"WARNING: {public}.", file=sys.stderr, flush=True)


def refuse_a_damaged_postgres(settings) -> None:
    """The log chains from their last checkpoints, as for the file (amcheck, which reads
    every table whole, only on demand). An unreachable server is not damage: the store
    says so, and /readyz is red until it answers."""
    from .store.postgresql import Unreachable

    try:
        problems, _checked = integrity.postgres_problems(settings.database_url)
    except Unreachable:
        return
    if problems:
        report = integrity.damage_report(settings.db_path, problems, settings.database_url)
        sys.exit("Exit Now will not start: " + report)


def patch_for(async_mode: str) -> None:
    quiet_eventlet_notice()
    if async_mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()
    elif async_mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    frames.install(async_mode)


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
        return
    options = {"log_output": False, **_server_options(settings)}
    socketio.run(app, host=settings.host, port=settings.port, **options)


def _server_options(settings) -> dict:
    """Flask-SocketIO's server under gevent or threading, sized as eventlet's above."""
    if settings.async_mode == "gevent":
        # gevent's own defaults: a backlog of 128, and no bound on connections.
        return {"backlog": settings.listen_backlog, "spawn": settings.max_connections}
    from werkzeug.serving import BaseWSGIServer

    # werkzeug's server takes its backlog (128) from the class alone; it has a thread per
    # connection, with no bound.
    BaseWSGIServer.request_queue_size = settings.listen_backlog
    return {"allow_unsafe_werkzeug": True}


if __name__ == "__main__":
    main()
