"""Engine.IO's pings, sent from one timer per process instead of a green thread per phone.

python-engineio pings each connection from a green thread of its own, started after every
pong to sleep `ping_interval` and send the next ping, and its monitor finds the connections
that stopped answering by waiting once per connection, spread over `ping_timeout`. With five
thousand idle phones that was a thousand green threads started or woken a second, most of
an idle server's work. Here one timer walks the connections each second: a connection whose
last pong is `ping_interval` old gets its ping, one that left a ping unanswered for longer
than `ping_timeout` is closed. The protocol is the same (a ping every `ping_interval`, up to
PING_EVERY_SECONDS late; an answer due within `ping_timeout`), and so is what a phone notices.
"""

from __future__ import annotations

import logging
import time

from engineio import packet

logger = logging.getLogger(__name__)
PING_EVERY_SECONDS = 1
# Engine.IO's ping period and the answer's deadline (server/app.py): a phone notices a dead
# connection, and reconnects, within seconds; the server closes one after their sum silent.
PING_INTERVAL_SECONDS = 10
PING_TIMEOUT_SECONDS = 10


def take_over(socketio) -> None:
    """Ping this server's connections from one timer (call once, before the first connects)."""
    eio = socketio.server.eio
    eio.start_service_task = False  # its monitor: replaced by `_ping_forever`
    socket_connected = eio.handlers["connect"]

    def connected(eio_sid, environ, *args):
        connection = eio.sockets.get(eio_sid)
        if connection is not None:
            # Engine.IO calls this after the connect and after every pong, where it would
            # start the green thread that sends the next ping.
            connection.schedule_ping = lambda: _answered(connection, eio.ping_interval)
        return socket_connected(eio_sid, environ, *args)

    eio.on("connect", connected)
    socketio.start_background_task(_ping_forever, eio)


def _answered(connection, interval: float) -> None:
    connection.last_ping = None  # no ping is waiting for its answer
    connection.next_ping = time.time() + interval


def _ping_forever(eio) -> None:
    while True:
        eio.sleep(PING_EVERY_SECONDS)
        try:
            ping_due(eio, time.time())
        except Exception:  # keep the pings going; the next second tries again
            logger.exception("pinging the connections failed")


def ping_due(eio, now: float) -> None:
    """Ping each connection whose interval has passed since its last answer; close each that
    left its ping unanswered too long; forget the closed ones (as Engine.IO's monitor did)."""
    for sid, connection in list(eio.sockets.items()):
        if connection.closed:
            eio.sockets.pop(sid, None)
        elif connection.closing:
            continue
        elif connection.last_ping is not None:
            connection.check_ping_timeout()  # closes it when the answer is overdue
        elif getattr(connection, "next_ping", now) <= now:
            connection.last_ping = now
            connection.send(packet.Packet(packet.PING))
