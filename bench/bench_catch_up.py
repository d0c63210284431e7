"""What the server does for each phone that comes back after a restart (server/live/realtime.py
`catch_up`): N enrolled phones reconnect, each with the `last_seq` it had seen before an
incident's first minute (the alarm and everyone's receipt), and each is sent what it missed and
the state, in this process, on a database file of its own. The sends go to a recorder that keeps
only their sizes, so the figures are the server's work, not a network's.

Printed: the server's CPU for all N catch-ups, per phone (median and p99 of N), and the bytes
sent per phone. Beside it, measured the same way in the same run, the floor: the same messages
sent again to each phone with nothing read or built (strictly less than a catch-up does).

    python -m bench.bench_catch_up [--phones 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid

from bench.bench_readiness import enroll_phones
from harness.bench import demo_services, percentile
from server.commands import execute
from server.live.realtime import catch_up
from server.rules.auth import command_line

SITE = "demo"


class Recorder:
    """Stands where Socket.IO would: rooms joined and the size of each message sent."""

    def __init__(self):
        self.sent: dict[str, int] = {}
        recorder = self

        class Manager:
            @staticmethod
            def eio_sid_from_sid(sid, namespace):
                return sid

        class Eio:  # what realtime.send_encoded sends: a Socket.IO packet's text
            @staticmethod
            def send(sid, text):
                recorder.sent[sid] = recorder.sent.get(sid, 0) + len(text)

        class Server:
            manager = Manager
            eio = Eio

            @staticmethod
            def enter_room(sid, room):
                pass

        self.server = Server

    def emit(self, name, data, to=None, **_options):
        self.sent[to] = self.sent.get(to, 0) + len(json.dumps(data))


def timed(each, people) -> list[float]:
    costs = []
    for number, person in enumerate(people):
        start = time.process_time()
        each(number, person)
        costs.append(time.process_time() - start)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=1000)
    args = parser.parse_args()
    services = demo_services(tempfile.mkdtemp(prefix="bench-catch-up-"))
    people = enroll_phones(services, args.phones)
    operator = command_line(SITE)
    with services.store.reading() as db:
        seen = db.execute("SELECT MAX(seq) FROM events WHERE site = ?", [SITE]).fetchone()[0]
    execute(services, operator, SITE, "start_incident", {"kind": "fire"})
    for person in people:
        execute(services, person, SITE, "record_delivery", {}, idempotency_key=uuid.uuid4().hex)
    recorder = Recorder()
    catch_ups = timed(
        lambda number, person: catch_up(recorder, services, f"sid{number}", person, seen), people
    )

    sends = []  # the messages the first phone was sent, to be sent again bare
    first = Recorder()
    first.emit = lambda name, data, to=None, **_options: sends.append((name, data))
    first.server.eio.send = lambda sid, text: sends.append((None, text))
    catch_up(first, services, "first", people[0], seen)

    def bare(number, person):
        for name, data in sends:
            if name is None:  # already a packet's text: sent as it is
                recorder.server.eio.send(f"bare{number}", data)
            else:
                recorder.emit(name, data, to=f"bare{number}")

    floor = timed(bare, people)
    missed = args.phones + 1
    print(f"{args.phones} phones catch up on {missed} missed events and the state, in one process")
    for name, costs in (("catch_up", catch_ups), ("sends alone (floor)", floor)):
        print(
            f"  {name:20} all {sum(costs) * 1000:8.1f} ms cpu   per phone p50 "
            f"{statistics.median(costs) * 1000:6.2f} ms  p99 {percentile(costs, 0.99) * 1000:6.2f} ms"
        )
    sizes = [size for sid, size in recorder.sent.items() if sid.startswith("sid")]
    print(f"  sent per phone: {statistics.median(sizes) / 1000:.1f} kB (median)")


if __name__ == "__main__":
    main()
