"""Whether each person's phone can be reached now, seen before the day it matters: enrolled in
the app (a phone, not only a token), notifications allowed, a push subscription the push
service accepted the last time, when the phone was last connected, its app version, and its
answer to the last test alarm. Read from the state tables and `device_presence` (written in
batches, server/live/presence.py), plus what this worker knows and has not written yet."""

from __future__ import annotations

from collections import defaultdict

from ..basics.clock import iso
from .presence import STALE_AFTER_MS, Presence

# A test alarm the push service accepted but the phone did not answer within this time counts
# against the phone (its service worker answers within seconds when it gets the push).
TEST_ANSWER_WITHIN_MS = 120_000

# Why a phone is not ready, in the order a duty manager fixes them (pwa/texts: readiness.reason.*).
REASONS = (
    "not_enrolled",  # no phone enrolled: a bearer token at most
    "not_installed",  # an iPhone outside the app on its Home Screen: no Web Push there at all
    "notifications_off",  # the phone's last word: notifications blocked or not allowed yet
    "subscription_expired",  # the push service said 404 or 410; the phone must subscribe again
    "no_subscription",  # enrolled, but never subscribed to push
    "push_failed",  # the push service refused the last push (its status is shown)
    "test_unanswered",  # the last test alarm was accepted but never answered
)


def site_readiness(db, site: str, presence: Presence, now: int) -> dict:
    """Every person of the site with whether their phone is ready and, if not, why."""
    people = list(
        db.query("SELECT id, name, role FROM staff WHERE site = ? ORDER BY name, id", [site])
    )
    devices = _by_staff(
        db,
        """SELECT c.staff_id, c.id FROM credentials c JOIN staff s ON s.id = c.staff_id
           WHERE s.site = ? AND c.kind = 'device' AND c.revoked_at IS NULL""",
        site,
    )
    subscriptions = _by_staff(
        db, "SELECT staff_id, id FROM push_subscriptions WHERE site = ?", site
    )
    outcomes = {
        row["subscription_id"]: row
        for row in db.query("SELECT * FROM push_outcomes WHERE site = ?", [site])
    }
    last_outcome: dict[int, dict] = {}
    for row in outcomes.values():  # each person's latest answer, of any subscription
        known = last_outcome.get(row["staff_id"])
        if known is None or (row["at"], row["subscription_id"]) > (
            known["at"],
            known["subscription_id"],
        ):
            last_outcome[row["staff_id"]] = row
    seen_by_device = _presence(db, site, presence, now)
    tests = {
        row["staff_id"]: row
        for row in db.query(
            """SELECT p.*, t.sent_at FROM test_alarm_phones p JOIN test_alarms t ON t.id = p.test_id
               WHERE t.site = ? AND p.test_id = (SELECT MAX(q.test_id) FROM test_alarm_phones q
                                                 WHERE q.staff_id = p.staff_id)""",
            [site],
        )
    }
    rows = []
    for person in people:
        staff_id = person["id"]
        seen = [seen_by_device[c] for c in devices.get(staff_id, []) if c in seen_by_device]
        current = [outcomes[s] for s in subscriptions.get(staff_id, []) if s in outcomes]
        rows.append(
            _person(
                person,
                enrolled=bool(devices.get(staff_id)),
                subscribed=len(subscriptions.get(staff_id, [])),
                current=current,
                last=last_outcome.get(staff_id),
                seen=seen,
                test=tests.get(staff_id),
                now=now,
            )
        )
    return {
        "site": site,
        "ready": sum(row["ready"] for row in rows),
        "total": len(rows),
        "people": rows,
    }


def _person(person, *, enrolled, subscribed, current, last, seen, test, now) -> dict:
    latest_seen = max(seen, key=lambda row: row["last_seen_at"], default=None)
    connected = any(row["connected"] for row in seen)
    notifications = latest_seen["notifications"] if latest_seen else None
    # The last push to a subscription the phone still has; else the last one at all (expired).
    push = max(current, key=lambda row: row["at"], default=None) if current else last
    reasons = []
    if not enrolled:
        reasons.append("not_enrolled")
    # "default" (not asked yet) said on connect, before the app asked; a subscription made
    # since proves they were allowed. "denied" takes the subscription away in browsers.
    # An iPhone in Safari: installing the app is the one step; nothing else can be fixed first.
    not_installed = enrolled and notifications == "home_screen" and not subscribed
    if not_installed:
        reasons.append("not_installed")
    if enrolled and (notifications == "denied" or (notifications == "default" and not subscribed)):
        reasons.append("notifications_off")
    if enrolled and not subscribed and not not_installed:
        expired = last is not None and last["outcome"] == "expired"
        reasons.append("subscription_expired" if expired else "no_subscription")
    if subscribed and current and all(row["outcome"] == "failed" for row in current):
        reasons.append("push_failed")
    if (
        subscribed
        and test is not None
        and test["outcome"] == "accepted"
        and test["answered_at"] is None
        and now - test["sent_at"] > TEST_ANSWER_WITHIN_MS
    ):
        reasons.append("test_unanswered")
    return {
        "staff_id": person["id"],
        "name": person["name"],
        "role": person["role"],
        "ready": not reasons,
        "reasons": reasons,
        "enrolled": enrolled,
        "notifications": notifications,
        "subscriptions": subscribed,
        "push": None
        if push is None
        else {
            "outcome": push["outcome"],
            "status": push["status"],
            "at": iso(push["at"]),
            "purpose": push["purpose"],
        },
        "connected": connected,
        "last_connected": iso(now if connected else latest_seen["last_seen_at"])
        if latest_seen
        else None,
        "app_version": latest_seen["app_version"] if latest_seen else None,
        "test": None
        if test is None
        else {
            "test_id": test["test_id"],
            "sent_at": iso(test["sent_at"]),
            "push": test["outcome"],
            "answered_at": iso(test["answered_at"]),
        },
    }


def _by_staff(db, sql: str, site: str) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    for staff_id, id_ in db.execute(sql, [site]):
        found[staff_id].append(id_)
    return found


def _presence(db, site: str, presence: Presence, now: int) -> dict[int, dict]:
    """Per device credential: its latest row over the workers, `connected` when one of them
    counts a connection and that worker's heartbeat is fresh. This worker's own memory
    stands in for its rows (it may know of a connect or disconnect not written yet)."""
    live = presence.live(site)
    fresh = {
        row[0]
        for row in db.execute(
            "SELECT worker FROM presence_workers WHERE seen_at > ?", [now - STALE_AFTER_MS]
        )
    }
    rows = [{**row, "connected": row["connections"] > 0} for row in live.values()]
    rows += [
        {**row, "connected": row["connections"] > 0 and row["worker"] in fresh}
        for row in db.query("SELECT * FROM device_presence WHERE site = ?", [site])
        if not (row["worker"] == presence.worker and row["credential_id"] in live)
    ]
    merged: dict[int, dict] = {}
    for row in rows:
        known = merged.get(row["credential_id"])
        if known is None:
            merged[row["credential_id"]] = row
            continue
        newer = row if row["last_seen_at"] >= known["last_seen_at"] else known
        connected = known["connected"] or row["connected"]
        merged[row["credential_id"]] = {**newer, "connected": connected}
    return merged
