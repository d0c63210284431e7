"""Socket.IO: who connects (decided once, in `connect`), catching a client up from its
`last_seq`, and actions sent over the socket (the same commands as the HTTP API)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from engineio.exceptions import SocketIsClosedError
from flask import request
from flask_socketio import ConnectionRefusedError
from socketio import packet

from .. import commands
from ..basics.errors import INTERNAL_ERROR, Invalid, Rejected, StoreUnreachable, Unauthenticated
from ..basics.names import LARGEST_INTEGER, problem_in
from ..channels import load_notice
from ..channels.status import status_document
from ..operations import rate_limits
from ..rules import auth
from ..store.state import site_row
from .publish import PUBLIC_NAMESPACE, public_room, room_of

logger = logging.getLogger(__name__)
# (namespace, message) heard without a Flask-SocketIO handler: `answer_actions_from_the_writer`
HEARD_BY_THE_WRITER = frozenset({("/", "action")})


def register(socketio, services) -> None:
    """Attach the Socket.IO handlers for one app."""
    register_public(socketio, services)
    actions = commands.socket_actions()

    @socketio.on("connect")
    def connect(auth_data=None):
        with refused_with_its_problem(services):  # a wrong token, too many, a lost database
            identity = _identify(services, auth_data)
        if identity is None:
            raise ConnectionRefusedError("unauthorized: send auth={'token': ...} or sign in")
        socketio.server.save_session(request.sid, {"identity": identity})
        services.presence.connected(request.sid, identity, auth_data)  # memory only
        # Catch up after the CONNECT answer is sent: messages emitted inside this handler
        # would reach the client before it knows it is connected.
        socketio.start_background_task(
            catch_up, socketio, services, request.sid, identity, _last_seq(auth_data)
        )

    @socketio.on("disconnect")
    def disconnect(*_reason):
        services.presence.disconnected(request.sid)

    @socketio.on("sync")
    def sync(data=None):
        """A client that saw a gap in `seq` asks again for what it missed."""
        identity = _session_identity(socketio)
        if identity is not None:
            catch_up(socketio, services, request.sid, identity, _last_seq(data))

    answer_actions_from_the_writer(socketio, services, actions)


def answer_actions_from_the_writer(socketio, services, actions: frozenset[str]) -> None:
    """An `action` message {command, params, idempotency_key} runs its command as the
    connection's identity on its own site; its acknowledgement carries the result or a
    problem+json error.

    Not a Flask-SocketIO handler: python-socketio would run each one in a green thread of its
    own, in a Flask request context, waiting for the writer's commit, and a thousand receipts
    then meant a thousand threads woken one by one after the batch. Here the message goes
    straight to the writer (`commands.execute_then`), and the writer sends each answer when
    the batch is committed (bench/README.md, issue 27). Every other message goes the usual way.
    """
    server = socketio.server
    handle_event = server._handle_event  # python-socketio's own (pinned in requirements.txt)

    def handle_event_or_action(eio_sid, namespace, ack_id, data):
        if not _is_action(namespace, data):
            return handle_event(eio_sid, namespace, ack_id, data)
        sid = server.manager.sid_from_eio_sid(eio_sid, "/")
        if sid is None or not server.manager.is_connected(sid, "/"):
            return None  # not connected to the namespace: python-socketio ignores it too

        def answer(result, error=None) -> None:
            reply = _answer_of(services, data, result, error)  # logs a bug's error, asked or not
            if ack_id is not None:  # a client that asked for no answer gets none
                send_answer(server, eio_sid, ack_id, reply)

        try:
            message = data[1] if len(data) > 1 else None
            identity, name, params, key = _action_of(server, sid, actions, message)
            commands.execute_then(services, identity, identity.site, name, params, key, answer)
        except Exception as error:  # refused before it reached the writer (or a bug)
            answer(None, error)

    server._handle_event = handle_event_or_action


def _is_action(namespace, data) -> bool:
    name = data[0] if isinstance(data, list) and data else None
    return isinstance(name, str) and (namespace or "/", name) in HEARD_BY_THE_WRITER


def send_answer(server, eio_sid: str, ack_id: int, answer: dict) -> None:
    """The ACK packet, framed by python-socketio itself (its JSON, its binary check)."""
    ack = server.packet_class(packet.ACK, namespace="/", id=ack_id, data=[answer])
    with contextlib.suppress(SocketIsClosedError):  # gone meanwhile: it sends it again when back
        server._send_packet(eio_sid, ack)


def _answer_of(services, data, result, error) -> dict:
    if error is None:
        return {"ok": True, "result": result}
    if isinstance(error, Rejected):
        return {"ok": False, "error": error.problem()}
    if services.store.forget_if_lost(error):  # a read met a failover: try again
        return {"ok": False, "error": StoreUnreachable().problem()}
    command = data[1].get("command") if len(data) > 1 and isinstance(data[1], dict) else None
    logger.error("unexpected error in the action %r", command, exc_info=error)
    return {"ok": False, "error": INTERNAL_ERROR}


def catch_up(socketio, services, sid: str, identity: auth.Identity, last_seq: int | None) -> None:
    """Send the events missed after `last_seq` (as `events` batches), then the state, and
    join the site's room.

    Read first, then joined: reads on PostgreSQL under gevent yield to the event loop, and a live event
    sent meanwhile would reach the phone before a state older than it. One committed between
    the read and the join shows as a gap at the next event (the phone asks `sync`), or at
    the next `head`. On SQLite nothing yields from the read to the last send.
    The messages go straight to this process's own connection, never through the message
    queue: a catch-up lost in a queue outage would leave the phone behind until the next head,
    as one that meets a failover of PostgreSQL does.
    """
    try:
        with services.store.reading() as db:
            batches = None
            if last_seq is not None:
                limit = services.settings.replay_limit
                batches = services.states.missed_json(db, identity, last_seq, limit)
            state = services.states.for_person_json(db, identity)
    except Exception as error:
        if not services.store.forget_if_lost(error):
            raise
        logger.warning("a phone's catch-up met a lost database; it asks again at the next head")
        socketio.server.enter_room(sid, room_of(identity))
        return
    socketio.server.enter_room(sid, room_of(identity))
    for batch in batches or ():  # None: too far behind, the state alone brings it up to date
        send_encoded(socketio, sid, "events", batch)
    send_encoded(socketio, sid, "state", state)
    disk = services.disk.state
    if identity.is_responder and disk.needs_warning:  # the console's banner (server/store/disk.py)
        socketio.emit("disk", disk.warning(), to=sid, ignore_queue=True)


def send_encoded(socketio, sid: str, name: str, json_text: str) -> None:
    """Send the event `name` whose data is already JSON text to one connection of this process,
    as Socket.IO would frame it (an EVENT packet of the namespace "/"): the text shared by a
    thousand phones is encoded once, not once each."""
    server = socketio.server
    eio_sid = server.manager.eio_sid_from_sid(sid, "/")
    if eio_sid is not None:  # gone meanwhile: nothing to send to
        server.eio.send(eio_sid, f'{packet.EVENT}["{name}",{json_text}]')


def _action_of(server, sid: str, actions: frozenset[str], data) -> tuple:
    """The identity, command, params and idempotency key of an `action` message; a command
    not declared for the socket is refused."""
    if not isinstance(data, dict) or data.get("command") not in actions:
        raise Rejected(
            "Send {command, params, idempotency_key}; command is one of: "
            + ", ".join(sorted(actions))
            + "."
        )
    problem = problem_in(data)
    if problem:
        raise Invalid(problem)
    identity = server.get_session(sid)["identity"]
    key = commands.checked_idempotency_key(data.get("idempotency_key"), "idempotency_key")
    return identity, data["command"], data.get("params"), key


def register_public(socketio, services) -> None:
    """The public namespace: anyone may listen to a site's notice (the queue screens)."""

    @socketio.on("connect", namespace=PUBLIC_NAMESPACE)
    def connect_public(auth_data=None):
        site = auth_data.get("site") if isinstance(auth_data, dict) else None
        with refused_with_its_problem(services), services.store.reading() as db:
            known = isinstance(site, str) and site_row(db, site) is not None
        if not known:
            raise ConnectionRefusedError("send auth={'site': '<site id>'} for a known site")
        socketio.start_background_task(send_notice, request.sid, site)

    def send_notice(sid: str, site: str) -> None:
        socketio.server.enter_room(sid, public_room(site), namespace=PUBLIC_NAMESPACE)
        with services.store.reading() as db:
            document = status_document(load_notice(db, site))
        socketio.emit("notice", document, to=sid, namespace=PUBLIC_NAMESPACE, ignore_queue=True)


@contextlib.contextmanager
def refused_with_its_problem(services) -> Iterator[None]:
    """A connection refused (a wrong token, too many failures from one address) gets the
    problem an HTTP request would, in its `connect_error`'s data; so does one that meets a lost
    database (PostgreSQL restarting or failing over: 503, try again), never a traceback and
    no answer at all."""
    try:
        yield
    except Rejected as refused:
        raise ConnectionRefusedError(refused.detail, refused.problem()) from None
    except Exception as error:
        if not services.store.forget_if_lost(error):
            raise
        refused = StoreUnreachable()
        raise ConnectionRefusedError(refused.detail, refused.problem()) from None


def _identify(services, auth_data) -> auth.Identity | None:
    """Who connects, or None without a token or cookie. One that identifies nobody is a failed
    sign-in (Unauthenticated), limited per client address (429, server/operations/rate_limits.py)."""
    token = auth_data.get("token") if isinstance(auth_data, dict) else None
    via_cookie = not token
    if via_cookie:  # the PWA: its session cookie came with the handshake
        token = request.cookies.get(auth.SESSION_COOKIE)
    if not isinstance(token, str) or not token:
        return None
    with rate_limits.counting_failures(rate_limits.SIGN_IN):
        with services.store.reading() as db:
            identity = auth.identify(db, token, via_cookie=via_cookie)
        if identity is None:
            raise Unauthenticated("unauthorized: this token or session is unknown or revoked")
    return identity


def _session_identity(socketio) -> auth.Identity:
    return socketio.server.get_session(request.sid)["identity"]


def _last_seq(data) -> int | None:
    value = data.get("last_seq") if isinstance(data, dict) else None
    whole = isinstance(value, int) and not isinstance(value, bool)
    return value if whole and 0 <= value <= LARGEST_INTEGER else None
