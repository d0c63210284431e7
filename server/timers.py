"""Work the server does by itself: rewrite the public snapshots at start (and after each
site's midnight), switch the public channels from "restored" back to "open" when a site's
restored time is over, sign the logs' checkpoints at least hourly, sign out the visitors still
in at each site's closing time, erase daily the personal data whose retention ended, and
collect memory garbage while no alarm is on."""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING

from . import commands
from .basics import clock
from .basics.clock import local_day, now_ms
from .basics.tasks import kept_alive
from .commands.sites import sites_with_undeclared_assembly_points
from .live import pings
from .live.follow import follow_other_processes
from .live.publish import AUDIENCES, room
from .operations.message_queue import start_listening
from .operations.metrics import connections_per_site
from .rules import alarm_panel, auth
from .rules.auth import command_line
from .rules.escalation import CHECK_EVERY_SECONDS as ESCALATION_EVERY_SECONDS
from .rules.visitors import due_out
from .store import log
from .store.sql import marks
from .store.state import site_ids

if TYPE_CHECKING:
    from .services import Services

logger = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 5
HEAD_EVERY_SECONDS = 5
# After a site's head moved it is told this many periods in a row (a client may have lost what
# just left); then only every QUIET_HEAD_PERIODS, so that idle phones cost little.
HEAD_REPEATS = 2
QUIET_HEAD_PERIODS = 12  # a minute
COLLECT_EVERY_SECONDS = 60
CHECKPOINTS_EVERY_SECONDS = 60
FULL_COLLECTION_EVERY_MINUTES = 60
NEVER_BY_ITSELF = 2**31 - 1  # the most collections of the middle generation C's int holds
PANEL_EVERY_SECONDS = 1
DISK_EVERY_SECONDS = 5
CLOSING_EVERY_SECONDS = 60
CLOCK_EVERY_SECONDS = 1
ERASE_EXPIRED_EVERY_SECONDS = 24 * 3600  # retention is in days (server/rules/privacy.py)


def start(services: Services) -> None:
    """Call once per server process (not from the CLI or unit tests)."""
    step_seen = start_clock(services)
    declare_assembly_points(services)
    services.snapshots.refresh_all()
    start_listening(services.socketio)
    if services.store.engine == "postgresql":  # in a native thread: see watch_stuck
        services.socketio.start_background_task(services.run_native, services.store.watch_stuck)
    if services.publisher.log_store is not None:
        services.socketio.start_background_task(
            follow_other_processes, services, lambda: tell_heads_now(services)
        )
    pings.take_over(services.socketio)  # one timer for every connection's pings
    services.socketio.start_background_task(_reopen_loop, services)
    services.socketio.start_background_task(_tell_heads_forever, services)
    services.socketio.start_background_task(_collect_while_quiet, services)
    services.socketio.start_background_task(services.presence.flush_forever, services)
    services.socketio.start_background_task(services.webhooks.run_forever, services)
    services.socketio.start_background_task(services.mailboxes.run_forever, services)
    services.socketio.start_background_task(_escalate_forever, services)
    services.socketio.start_background_task(_checkpoints_forever, services)
    services.socketio.start_background_task(_watch_alarm_panels, services)
    services.socketio.start_background_task(_watch_disk, services)
    services.socketio.start_background_task(_sign_out_at_closing_forever, services)
    services.socketio.start_background_task(_watch_clock, services, step_seen)
    services.socketio.start_background_task(_erase_expired_daily, services)


def start_clock(services: Services) -> int:
    """The server's clock starts at the system clock, or at the log's latest time when the
    system clock is behind it (stepped back while the server was down): logged then."""
    with services.store.reading() as db:
        sites = site_ids(db)
        latest = max((log.latest_ts(db, site) for site in sites), default=0)
    clock.follow_system_clock(at_least_ms=latest)
    return watch_clock(services, 0)


def watch_clock(services: Services, step_seen: int) -> int:
    """Log a step of the system clock away from the server's (`clock.stepped` on every site)
    once; follow a step forward once no incident is on, so that the log's times are the
    system's again without a duration in an incident jumping. A step back is not followed:
    the server's clock runs on from where the log is. Returns the step now seen."""
    step = clock.step_ms()
    if abs(step - step_seen) >= clock.STEP_MS:
        with services.store.reading() as db:
            sites = site_ids(db)
        by_ms = step - step_seen
        stepped = {"ms": abs(by_ms), "back": by_ms < 0, "system_ms": clock.system_ms()}
        for site in sites:
            commands.execute(services, command_line(site), site, "record_clock_step", stepped)
        step_seen = step
    if step_seen > 0:
        with services.store.reading() as db:
            incident_on = db.execute("SELECT 1 FROM incidents WHERE ended_at IS NULL").fetchone()
        if incident_on is None:
            clock.follow_system_clock()
            step_seen = 0
    return step_seen


def _watch_clock(services: Services, step_seen: int) -> None:
    while True:
        services.socketio.sleep(CLOCK_EVERY_SECONDS)
        with kept_alive(services.store, "watching the system clock"):
            step_seen = watch_clock(services, step_seen)


def declare_assembly_points(services: Services) -> list[str]:
    """A database from before assembly points were places gets them, as events, once."""
    with services.store.reading() as db:
        sites = sites_with_undeclared_assembly_points(db)
    for site in sites:
        commands.execute(services, command_line(site), site, "declare_assembly_points")
    return sites


def erase_expired(services: Services) -> dict[str, dict]:
    """Erase on every site what its retention has ended (flask erase-expired does the same);
    {site: what was erased, by kind and count}."""
    with services.store.reading() as db:
        sites = site_ids(db)
    return {
        site: commands.execute(services, command_line(site), site, "erase_expired")["erased"]
        for site in sites
    }


def _erase_expired_daily(services: Services) -> None:
    while True:
        services.socketio.sleep(ERASE_EXPIRED_EVERY_SECONDS)
        with kept_alive(services.store, "erasing expired personal data"):  # else tomorrow
            for site, erased in erase_expired(services).items():
                if erased:
                    logger.info("erased on site %s what its retention ended: %s", site, erased)


def reopen_due_sites(services: Services) -> list[str]:
    """Reopen every site whose restored time is over; return their ids."""
    now = now_ms()
    with services.store.reading() as db:
        due = [
            row[0]
            for row in db.execute(
                "SELECT site FROM public_notices WHERE state = 'restored' AND restored_until <= ?",
                [now],
            )
        ]
    for site in due:  # several processes may race here: the command is a no-op for the loser
        commands.execute(services, command_line(site), site, "reopen_notices")
    return due


def rewrite_after_midnight(services: Services, days: dict[str, str]) -> list[str]:
    """Write the public words of every site whose local day changed since `days` saw it:
    a time of another day is said with its date ("closed since Monday 4.5. at 23.10"), so
    yesterday's "since 23.10" must not stay dateless. Returns the sites rewritten."""
    now = now_ms()
    with services.store.reading() as db:
        sites = db.execute("SELECT id, timezone FROM sites").fetchall()
    rewritten = []
    for site, zone in sites:
        day = local_day(now, zone)
        if days.setdefault(site, day) != day:
            days[site] = day
            services.publisher.refresh_public(site)
            rewritten.append(site)
    return rewritten


def _reopen_loop(services: Services) -> None:
    days: dict[str, str] = {}
    while True:
        services.socketio.sleep(CHECK_EVERY_SECONDS)
        with kept_alive(services.store, "reopening the public channels"):
            reopen_due_sites(services)
            rewrite_after_midnight(services, days)


def sign_out_at_closing(services: Services) -> dict[str, int]:
    """Sign out the visitors still in past their site's closing time (the command refuses
    during an alarm: they would count as out). Returns how many, per site signed out."""
    now = now_ms()
    with services.store.reading() as db:
        sites = [
            site
            for (site,) in db.execute("SELECT DISTINCT site FROM visitors WHERE left_at IS NULL")
            if due_out(db, site, now)  # read first: most minutes nobody is due, nothing written
        ]
    signed_out = {}
    for site in sites:  # as above: the loser of a race between processes changes nothing
        answer = commands.execute(services, command_line(site), site, "sign_out_at_closing")
        if answer["signed_out"]:
            signed_out[site] = answer["signed_out"]
    return signed_out


def _sign_out_at_closing_forever(services: Services) -> None:
    while True:
        services.socketio.sleep(CLOSING_EVERY_SECONDS)
        with kept_alive(services.store, "signing out the visitors at closing time"):
            sign_out_at_closing(services)


def watch_alarm_panels(services: Services) -> None:
    """Start the evacuation of every site whose pre-alarm nobody answered in time, and say
    "link down" for every site whose panel's heartbeat stopped (server/rules/alarm_panel.py)."""
    now = now_ms()
    with services.store.reading() as db:
        expired = alarm_panel.sites_past_deadline(db, now)
        silent = alarm_panel.sites_gone_silent(db, now)
    for site in expired:  # as above: the loser of a race between processes changes nothing
        commands.execute(services, auth.alarm_panel(site), site, "expire_pre_alarm")
    for site in silent:
        commands.execute(services, auth.alarm_panel(site), site, "mark_alarm_panel_link_down")


def _watch_alarm_panels(services: Services) -> None:
    while True:  # every second: a pre-alarm's countdown is a promise to the duty manager
        services.socketio.sleep(PANEL_EVERY_SECONDS)
        with kept_alive(services.store, "watching the alarm panels"):
            watch_alarm_panels(services)


def watch_disk(services: Services, told: tuple) -> tuple:
    """Read the disk (server/store/disk.py); when the console's banner comes or goes (low, reserve
    used), tell the responders of every site connected here. Returns what they were told."""
    warning = services.disk.watch().warning()
    now = (warning["low"], warning["reserve_used"])
    if now != told:
        for site in connections_per_site(services.socketio):
            room_ = room(site, "responders")
            services.socketio.emit("disk", warning, to=room_, ignore_queue=True)
    return now


def _watch_disk(services: Services) -> None:
    told = (False, False)  # a console connecting while warned hears it from realtime.py
    while True:
        services.socketio.sleep(DISK_EVERY_SECONDS)
        with kept_alive(services.store, "watching the free disk space"):
            told = watch_disk(services, told)


def _checkpoints_forever(services: Services) -> None:
    """Each minute: the hourly checkpoints of growing logs, the timestamps an authority did
    not give yet, the new checkpoints into the status documents (server/evidence/checkpoints.py)."""
    while True:
        services.socketio.sleep(CHECKPOINTS_EVERY_SECONDS)
        with kept_alive(services.store, "signing or witnessing the logs' checkpoints"):
            services.checkpoints.tick()


def _collect_while_quiet(services: Services) -> None:
    """Python's full garbage collection walks every object, and with a thousand phones
    connected it stopped the event loop for 100-160 ms (measured), alarm frames waiting.
    So the server collects by itself while no site has an incident and freezes what
    survived (gc.freeze): the automatic collections, an alarm's included, then walk only
    what is newer (an alarm freezes everything there is as it starts, too: publish.py).
    Each minute it collects what is new since the last freeze (quick); each hour it
    unfreezes and walks everything, for the rare cycle among the frozen objects."""
    leave_full_collections_to_the_quiet_loop()
    minutes = 0
    while True:
        with kept_alive(services.store, "collecting garbage"):
            with services.store.reading() as db:
                alarm_on = db.execute("SELECT 1 FROM incidents WHERE ended_at IS NULL").fetchone()
            if alarm_on is None:
                if minutes % FULL_COLLECTION_EVERY_MINUTES == 0:
                    gc.unfreeze()
                gc.collect()
                gc.freeze()
                minutes += 1
        services.socketio.sleep(COLLECT_EVERY_SECONDS)


def leave_full_collections_to_the_quiet_loop() -> None:
    """Python starts a full collection by itself once the objects that outlived the last one
    are a quarter of those that survived it. A thousand phones connecting in the minute
    before an alarm (not frozen yet) made one start inside the alarm's trigger, and the alarm
    left 60-80 ms later than in the runs without one (bench/README.md). The young generations
    still collect themselves. Full collections are `_collect_while_quiet`'s alone, and they
    wait until no alarm is on, so the rare cycle that outlives the young generations during
    an alarm is kept until then."""
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER_BY_ITSELF)


def _tell_heads_forever(services: Services) -> None:
    """Supervise the path to every phone, as a fire-alarm panel supervises its wiring: each
    client connected to this process gets `head`, its site's latest `seq` read from the shared
    log (not through the message queue), and a client that is behind asks for the rest (its
    catch-up comes from this process too, never through the queue). So an event lost
    anywhere, in Redis or on the way, is caught up within two periods even when nothing else
    happens. The head told is the one read a period earlier: by then every event up to it has
    left in some batch (they wait at most a second), so a client that is up to date never asks
    for nothing. When a site's head stands still there is nothing new to lose: see Heads."""
    heads = Heads()
    read_before: dict[str, int] = {}
    while True:
        services.socketio.sleep(HEAD_EVERY_SECONDS)
        with kept_alive(services.store, "telling the clients their sites' heads"):
            read_now = read_heads(services)
            tell_heads(services, heads.due(read_before))
            read_before = read_now


class Heads:
    """Which sites' clients are told their head in a period: every period for HEAD_REPEATS
    periods after it moved, then once every QUIET_HEAD_PERIODS. Told every period, five
    thousand idle phones cost a thousand frames a second for nothing: a client that connects
    later gets the state at that seq or newer, and a catch-up cannot be lost in the queue.
    Told again after a move, a client gets a second chance should the first head or what it
    asked for be lost; told each minute, the path stays supervised even when all is quiet."""

    def __init__(self):
        self._told: dict[str, int] = {}  # site -> the seq told last
        self._repeats: dict[str, int] = {}  # site -> periods it is still told in a row
        self._quiet: dict[str, int] = {}  # site -> periods since it was told

    def due(self, heads: dict[str, int]) -> dict[str, int]:
        """The heads to tell this period, of `heads` (each site with clients here)."""
        for gone in set(self._told) - set(heads):  # no client here now: forget the site
            del self._told[gone], self._repeats[gone], self._quiet[gone]
        due = {}
        for site, seq in heads.items():
            if self._told.get(site) != seq:
                self._told[site], self._repeats[site] = seq, HEAD_REPEATS
            self._quiet[site] = self._quiet.get(site, 0) + 1
            if self._repeats[site] > 0 or self._quiet[site] >= QUIET_HEAD_PERIODS:
                due[site] = seq
                self._repeats[site] = max(0, self._repeats[site] - 1)
                self._quiet[site] = 0
        return due


def tell_heads_now(services: Services) -> None:
    """After a message-queue outage: every client here learns its site's head at once."""
    tell_heads(services, read_heads(services))


def read_heads(services: Services) -> dict[str, int]:
    """The latest `seq` of each site that has clients connected to this process."""
    sites = sorted(connections_per_site(services.socketio))
    if not sites:
        return {}
    placeholders = marks(sites)
    with services.store.reading() as db:
        return dict(
            db.execute(
                f"SELECT site, MAX(seq) FROM events WHERE site IN ({placeholders}) GROUP BY site",
                sites,
            ).fetchall()
        )


def tell_heads(services: Services, heads: dict[str, int]) -> None:
    """Send `head` to this process's own clients of each site (never through the queue)."""
    for site, seq in heads.items():
        for audience in AUDIENCES:
            services.socketio.emit("head", {"seq": seq}, to=room(site, audience), ignore_queue=True)


def _escalate_forever(services: Services) -> None:
    """A read each second while an incident runs, and the command only when someone is due."""
    while True:
        services.socketio.sleep(ESCALATION_EVERY_SECONDS)
        with kept_alive(services.store, "escalating the alarm"):
            services.policies.escalate_due()
