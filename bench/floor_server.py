"""The framework's floor: a bare Flask-SocketIO app under eventlet (or gevent) that emits one
message to every connected client when POST /fire is called, and answers a phone's receipt at
once (bench_crowd.py: POST /api/sites/<site>/incidents/current/<answer>, or the socket's
`action`). Served as Exit Now serves itself
in that mode (server/__main__.py: under eventlet the same listen backlog and pool size, under
gevent Flask-SocketIO's own server; the same changes to the WebSocket, server/live/frames.py),
and the same garbage collection: POST /collect runs a full
one and freezes the survivors, as Exit Now does by itself while no alarm is on
(server/timers.py), so that neither meets a full collection of a thousand connections in the
middle of a round.

    python bench/floor_server.py PORT PAYLOAD_BYTES [eventlet|gevent]
"""

import sys
import warnings

# eventlet's notice that it is in bugfix mode (the server quiets it too: server/__init__.py)
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
ASYNC_MODE = sys.argv[3] if len(sys.argv) > 3 else "eventlet"
if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
else:
    sys.exit(f"async mode {ASYNC_MODE!r}: eventlet or gevent")

import gc  # noqa: E402
from pathlib import Path  # noqa: E402

# Exit Now's changes to the framework's WebSocket (declined compression, frames written while
# a phone's writer waits, whole sends): the floor is the same framework, doing strictly less.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from server.live import frames  # noqa: E402

frames.install(ASYNC_MODE)

from flask import Flask  # noqa: E402
from flask_socketio import SocketIO  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(app, async_mode=ASYNC_MODE)
PADDING = "x" * int(sys.argv[2])


@app.post("/fire")
def fire():
    socketio.emit("event", {"seq": 1, "type": "incident.started", "padding": PADDING})
    return {"ok": True}


@app.post("/echo")
def echo():
    """An answer and nothing else: what a POST costs the framework (bench_mustering.py)."""
    return {"ok": True, "changed": True}


@app.post("/api/sites/<site>/incidents/current/<answer>")
def receipt(site, answer):
    """A phone's receipt or "got it", answered at once: what bench_crowd's POSTs cost the
    framework (no sign-in, no log, no writer)."""
    return {"changed": True, "seq": 1}


def answer_actions_at_once() -> None:
    """The same over the socket (bench_crowd --way socket): the `action`'s acknowledgement sent
    at once, as Exit Now sends its own from the writer, outside Flask-SocketIO's handlers (each
    of which runs in a green thread of its own, in a request context: more than Exit Now does)."""
    from server.live.realtime import send_answer

    server = socketio.server
    handle_event = server._handle_event

    def handle_event_or_action(eio_sid, namespace, ack_id, data):
        if not (isinstance(data, list) and data and data[0] == "action"):
            return handle_event(eio_sid, namespace, ack_id, data)
        if ack_id is not None:
            send_answer(server, eio_sid, ack_id, {"ok": True, "result": {"changed": True}})
        return None

    server._handle_event = handle_event_or_action


answer_actions_at_once()


@app.post("/collect")
def collect():
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return {"ok": True}


@app.get("/healthz")
def healthz():
    return {"ok": True}


if __name__ == "__main__":
    port = int(sys.argv[1])
    if ASYNC_MODE == "eventlet":
        import eventlet.wsgi

        listener = eventlet.listen(("127.0.0.1", port), backlog=2048)
        eventlet.wsgi.server(listener, app, max_size=10000, log_output=False)
    else:
        socketio.run(app, host="127.0.0.1", port=port, log_output=False, backlog=2048, spawn=10000)
