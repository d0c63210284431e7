"""How the phones' WebSocket frames are made and sent: what this server changes in the
WebSocket of eventlet (its default mode) and of simple-websocket (gevent and threading).

Each change is measured in bench/README.md. `install` puts them in place, after the async
mode's monkey-patching and before the first phone connects (`server/__main__.py: patch_for`);
the benchmarks' bare Flask-SocketIO server (bench/floor_server.py) installs them too, so
that it stays the same framework doing strictly less."""

from __future__ import annotations

import contextlib
import socket
import struct
import time


def install(async_mode: str) -> None:
    """Every change below that applies to `async_mode`."""
    if async_mode == "eventlet":
        unmask_in_one_step()
    else:  # python-engineio's simple-websocket
        send_whole_frames()
    if async_mode in ("eventlet", "gevent"):
        write_while_the_writer_waits(async_mode)
    decline_permessage_deflate(async_mode)


def decline_permessage_deflate(async_mode: str) -> None:
    """Answer every WebSocket handshake without the permessage-deflate extension."""
    # Chromium offers it on every WebSocket, and eventlet's and simple-websocket's servers
    # accepted it: each phone then had a zlib compressor of its own for as long as it was
    # connected (256 kB allocated, about 110 kB resident measured), and the alarm's frame was
    # compressed once per phone (10-16 µs each for 1 kB, a thousand times over, on the event
    # loop). The frames are small, and Node socket.io leaves the extension off by default
    # too. Declining is the protocol's own way: the handshake names no extension, and the
    # browser sends and reads plain frames.
    if async_mode == "eventlet":
        import eventlet.websocket

        eventlet.websocket.WebSocketWSGI._negotiate_permessage_deflate = lambda self, extensions: (
            None
        )
    else:  # gevent and threading: python-engineio's simple-websocket, on wsproto
        import simple_websocket.ws
        from wsproto.extensions import PerMessageDeflate

        class Declined(PerMessageDeflate):
            def accept(self, offer: str) -> None:
                return None

        simple_websocket.ws.PerMessageDeflate = Declined  # looked up at each handshake


def unmask_in_one_step() -> None:
    """eventlet's WebSocket unmasks every frame a phone sends one byte at a time, a Python
    bytes object per byte: 20 µs for a 117-byte receipt, on the event loop, for every
    action and every pong. `unmasked` does the same in under 1 µs."""
    import eventlet.websocket

    eventlet.websocket.RFC6455WebSocket._apply_mask = staticmethod(unmasked)


def unmasked(data, mask, length: int | None = None, offset: int = 0) -> bytes:
    """eventlet's `_apply_mask`: the first `length` bytes of `data`, a piece of a frame that
    starts `offset` bytes into it, XORed with the frame's 4-byte `mask` (bytes, or a tuple or
    list of 4 ints) repeated from that offset; in one XOR of two big integers."""
    length = len(data) if length is None else length
    start = offset % 4
    key = bytes(mask[start:] + mask[:start]) * (length // 4 + 1)
    masked = int.from_bytes(data[:length], "little") ^ int.from_bytes(key[:length], "little")
    return masked.to_bytes(length, "little")


def send_whole_frames() -> None:
    """Under gevent and threading: every frame is sent whole, one at a time."""
    # simple-websocket 1.1.0 (the newest) sends each frame with one `socket.send`, which
    # takes what fits in the socket's buffer and returns how much: to a phone that reads
    # slowly the rest of the frame was dropped, and the next frame began inside it (the
    # browser then fails the connection). Fixed upstream (miguelgrinberg/simple-websocket#45)
    # but not released. Whole sends are no longer atomic, so they take turns (the writer's
    # frames, the answers to the phone's pings, the close); one that takes longer than a
    # silent connection may last ends the connection, as eventlet's socket timeout does.
    import simple_websocket.ws

    handshake = simple_websocket.ws.Server.handshake  # the first use of its socket

    def whole_sends_then_handshake(ws):
        ws.sock = WholeSends(ws.sock)
        return handshake(ws)

    simple_websocket.ws.Server.handshake = whole_sends_then_handshake


class WholeSends:
    """A phone's socket whose `send` sends everything, or ends the connection when the phone
    takes nothing for ping_interval + ping_timeout (as eventlet's socket timeout does)."""

    def __init__(self, sock):
        import threading  # patched in place under gevent: a green lock

        from .pings import PING_INTERVAL_SECONDS, PING_TIMEOUT_SECONDS

        self._sock = sock
        # The system's socket beneath gevent's, whose `send` would wait for the phone without
        # end; under threading, werkzeug's own. Sent to with MSG_DONTWAIT: it never waits.
        self._raw = getattr(sock, "_sock", sock)
        self._turn = threading.Lock()
        self._within = PING_INTERVAL_SECONDS + PING_TIMEOUT_SECONDS

    def send(self, data: bytes) -> int:
        with self._turn:
            sent = self._send_now(data)  # almost always all of it
            if sent < len(data):
                self._send_rest(memoryview(data)[sent:])
        return len(data)

    def _send_now(self, data) -> int:
        try:
            return self._raw.send(data, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return 0

    def _send_rest(self, rest: memoryview) -> None:
        """A slow phone's: more each time its socket takes more, until `_within` has passed.
        (No socket timeout: under threading, setting one makes the socket non-blocking under
        the reader thread's feet.)"""
        import select  # patched in place under gevent: a green wait

        deadline = time.monotonic() + self._within
        while rest:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [self._raw], [], left)[1]:
                with contextlib.suppress(OSError):  # the phone took nothing for that long
                    self._sock.shutdown(socket.SHUT_RDWR)  # its reader ends the connection
                raise BrokenPipeError("the phone read nothing in time")
            rest = rest[self._send_now(rest) :]

    def __getattr__(self, name):  # recv, fileno, close...: the socket's own
        return getattr(self._sock, name)


def write_while_the_writer_waits(async_mode: str) -> None:
    """Under eventlet and gevent: a message to a phone whose writer has nothing left to send
    is written at once, its frame built once for every phone a broadcast reaches."""
    # python-engineio puts each packet in the connection's queue, where the connection's own
    # writer green thread wakes (a switch, a timer) to frame it and send it: for one alarm to
    # a thousand phones, a thousand wakes and a thousand framings of the same bytes, where
    # Node writes one frame to every socket in one tick (bench/README.md: 1000 phones, p99
    # 24 ms instead of 58-82 ms). When the writer waits on an empty queue and nobody is
    # sending on the socket, everything queued before has been sent: writing now keeps the
    # order. Pings still go through the queue: the writer's wait for its next packet is also
    # the connection's watchdog (it closes a connection with nothing to send for
    # ping_interval + ping_timeout), and the pings keep an idle phone's writer awake.
    # Not under threading: there the writer's wait and this check are not one step.
    from engineio import socket as engineio_socket
    from engineio.packet import MESSAGE

    queued_send = engineio_socket.Socket.send
    handle_websocket = engineio_socket.Socket._websocket_handler
    poll = engineio_socket.Socket.poll
    line_of = _eventlet_line if async_mode == "eventlet" else _simple_websocket_line

    def websocket_handler(connection, ws):
        connection.line = line_of(ws)
        try:
            return handle_websocket(connection, ws)
        finally:
            connection.line = None

    def waiting_poll(connection):
        # The writer's wait for its next packets (and a long-polling GET's, which has no line).
        connection.waiting = getattr(connection, "waiting", 0) + 1
        try:
            return poll(connection)
        finally:
            connection.waiting -= 1

    def send(connection, pkt):
        line = getattr(connection, "line", None)
        if line is None or pkt.packet_type != MESSAGE or not _writer_waits(connection):
            return queued_send(connection, pkt)
        if not connection.check_ping_timeout():  # as python-engineio's send: closed, dropped
            return None
        frame = _frame(pkt)
        if frame is None or not line.take_turn():
            return queued_send(connection, pkt)
        _write(connection, line, frame)
        return None

    engineio_socket.Socket._websocket_handler = websocket_handler
    engineio_socket.Socket.poll = waiting_poll
    engineio_socket.Socket.send = send


def _writer_waits(connection) -> bool:
    """Whether the connection's writer is parked on its empty queue. Everything queued before
    has then been sent, unless somebody still holds the line (the writer while it sends,
    `_write_rest` until a slow phone took the rest): `send` tries it last. The frames are
    never compressed (`decline_permessage_deflate`), so one frame fits every phone."""
    return (
        connection.upgraded
        and not (connection.upgrading or connection.closing or connection.closed)
        and not connection.queue.qsize()
        and getattr(connection, "waiting", 0) > 0
    )


def _frame(pkt) -> bytes | None:
    """The packet's WebSocket frame, kept on the packet: python-socketio sends one packet
    object to every connection of a room (server frames are never masked, so the bytes are
    the same for each). None for a binary packet (Exit Now sends none): it goes the usual way."""
    frame = getattr(pkt, "frame", None)
    if frame is None:
        text = pkt.encode()
        if not isinstance(text, str):
            return None
        frame = pkt.frame = text_frame(text)
    return frame


def text_frame(text: str) -> bytes:
    """A final, unmasked text frame (RFC 6455, 5.2), as a server sends a message."""
    data = text.encode()
    if len(data) < 126:
        return struct.pack("!BB", 0x81, len(data)) + data
    if len(data) < 1 << 16:
        return struct.pack("!BBH", 0x81, 126, len(data)) + data
    return struct.pack("!BBQ", 0x81, 127, len(data)) + data


class _EventletLine:
    """An eventlet WebSocket (RFC 6455) as `send` writes to it: its send lock is the turn."""

    def __init__(self, ws):
        self.ws = ws

    def take_turn(self) -> bool:
        return self.ws._sendlock.acquire(blocking=False)

    def end_turn(self) -> None:
        self.ws._sendlock.release()

    def send_now(self, frame: bytes) -> int:
        try:
            return self.ws.socket.fd.send(frame)  # the raw non-blocking socket: never waits
        except BlockingIOError:
            return 0

    def send_rest(self, rest: bytes) -> None:
        self.ws.socket.sendall(rest)  # green, within the socket's timeout (ping_interval + timeout)


class _SimpleWebSocketLine:
    """A simple-websocket connection (gevent) as `send` writes to it: its `WholeSends`
    socket, whose turn lock the writer's frames take too. The frame goes past wsproto, which
    keeps no state between whole, uncompressed messages."""

    def __init__(self, ws):
        self.ws, self.sock = ws, ws.sock

    def take_turn(self) -> bool:
        # Closed (the phone's Close frame was answered): nothing may follow the Close, and the
        # writer's own send says so to python-engineio.
        return self.ws.connected and self.sock._turn.acquire(blocking=False)

    def end_turn(self) -> None:
        self.sock._turn.release()

    def send_now(self, frame: bytes) -> int:
        return self.sock._send_now(frame)

    def send_rest(self, rest: bytes) -> None:
        self.sock._send_rest(memoryview(rest))


def _eventlet_line(ws) -> _EventletLine | None:
    # eventlet still speaks the WebSocket drafts before RFC 6455 (hixie-75, -76), with other
    # frames: those connections keep python-engineio's way.
    from eventlet.websocket import RFC6455WebSocket

    return _EventletLine(ws) if isinstance(ws, RFC6455WebSocket) else None


def _simple_websocket_line(ws) -> _SimpleWebSocketLine | None:
    websocket = getattr(ws, "ws", None)  # python-engineio's wrapper holds simple-websocket's
    return (
        _SimpleWebSocketLine(websocket)
        if isinstance(getattr(websocket, "sock", None), WholeSends)
        else None
    )


def _write(connection, line, frame: bytes) -> None:
    """Write `frame` holding the line's turn: what the kernel takes now, without waiting; the
    rest of a slow phone's frame in a green thread of its own, so that it holds up nobody
    else's, and the packets after it queue behind the turn."""
    try:
        sent = line.send_now(frame)
    except OSError:
        line.end_turn()
        connection.queue.put(None)  # its writer closes the socket, as after its own failure
        return
    if sent == len(frame):
        line.end_turn()
    else:
        connection.server.start_background_task(_write_rest, connection, line, frame[sent:])


def _write_rest(connection, line, rest: bytes) -> None:
    try:
        line.send_rest(rest)
    except (OSError, ValueError):  # ValueError: gevent's select on a socket closed meanwhile
        connection.queue.put(None)
    finally:
        line.end_turn()
