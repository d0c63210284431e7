"""The framework's floor: a bare Flask-SocketIO app under eventlet that emits one message to
every connected client when POST /fire is called. Same listen backlog and pool size as Exit Now,
and the same garbage collection: POST /collect runs a full one and freezes the survivors, as
Exit Now does by itself while no alarm is on (server/timers.py), so that neither meets a full
collection of a thousand connections in the middle of a round.

    python bench/floor_server.py PORT PAYLOAD_BYTES
"""

import eventlet

eventlet.monkey_patch()

import gc  # noqa: E402
import sys  # noqa: E402

import eventlet.wsgi  # noqa: E402
from flask import Flask  # noqa: E402
from flask_socketio import SocketIO  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(app, async_mode="eventlet")
PADDING = "x" * int(sys.argv[2])


@app.post("/fire")
def fire():
    socketio.emit("event", {"seq": 1, "type": "incident.started", "padding": PADDING})
    return {"ok": True}


@app.post("/echo")
def echo():
    """An answer and nothing else: what a POST costs the framework (bench_mustering.py)."""
    return {"ok": True, "changed": True}


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
    listener = eventlet.listen(("127.0.0.1", int(sys.argv[1])), backlog=2048)
    eventlet.wsgi.server(listener, app, max_size=10000, log_output=False)
