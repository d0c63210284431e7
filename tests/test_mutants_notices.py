"""The public notices as the channels, the log and an admin see them: what a mutation tester
changed in server/commands/notices.py and no test noticed (issue 28). The app in this process."""

from __future__ import annotations

import pytest
from mail_standins import Graph

import server.commands as commands_module
import server.timers as timers_module
from server.basics.clock import now_ms as server_clock
from server.basics.clock import parse_iso
from server.basics.errors import Invalid
from server.channels.mailboxes import providers_for
from server.channels.mailboxes.sieve import with_password
from server.commands import execute
from server.rules.auth import command_line

SITE = "/api/sites/demo"
BOX = "service@shop.example"
# The longest address the set-up lists (64 before the @, 255 after) and one longer.
LONGEST_BOX = "s" * 64 + "@" + "x" * 252 + ".fi"
TOO_LONG_BOX = "s" * 64 + "@" + "x" * 253 + ".fi"


@pytest.fixture
def admin(api_as):
    return api_as("admin")


@pytest.fixture
def manager(api_as):
    return api_as("duty_manager")


def status(client) -> dict:
    return client.get("/status/demo.json").get_json()


def logged(manager, type_: str) -> list[dict]:
    """The payloads of the log's entries of `type_`, oldest first, as the events API shows them."""
    events = manager.get(f"{SITE}/events?after=0&limit=1000").get_json()["events"]
    return [event["payload"] for event in events if event["type"] == type_]


def reopen(services) -> dict:
    """The timer's command, as reopen_due_sites runs it (the loser of a race runs it too)."""
    return execute(services, command_line("demo"), "demo", "reopen_notices")


# --- versions, the restored time, the reopening ---------------------------------------------


def test_each_notice_issued_is_one_version_after_the_one_before(client, admin, manager, services):
    """CAP identifiers, ETags and the status page's reload follow the version: one step each."""
    admin.post(f"{SITE}/notice-settings", {"settings": {"restored_minutes": 0}})
    versions = [status(client)["version"]]
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    versions.append(status(client)["version"])
    manager.post(f"{SITE}/incidents/current/update", {"eta": "2099-01-01T12:30:00Z"})
    versions.append(status(client)["version"])
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    versions.append(status(client)["version"])
    reopen(services)

    assert status(client)["state"] == "open"
    assert versions + [status(client)["version"]] == [0, 1, 2, 3, 4]
    assert [issued["version"] for issued in logged(manager, "notice.issued")] == [1, 2, 3, 4]


def test_open_again_lasts_exactly_the_sites_restored_minutes(admin, manager):
    admin.post(f"{SITE}/notice-settings", {"settings": {"restored_minutes": 45}})
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})

    restored = logged(manager, "notice.issued")[-1]

    assert restored["state"] == "restored"
    assert parse_iso(restored["restored_until"]) - parse_iso(restored["since"]) == 45 * 60_000


def test_reopening_before_the_restored_time_is_over_changes_nothing(client, manager, services):
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})  # 30 minutes
    before = status(client)

    answer = reopen(services)

    assert answer["changed"] is False
    after = status(client)
    assert (after["state"], after["version"]) == ("restored", before["version"])
    assert "open again" in after["notice"]["en"]["text"]


def test_the_second_reopening_of_a_race_is_a_no_op_that_says_so(client, admin, manager, services):
    admin.post(f"{SITE}/notice-settings", {"settings": {"restored_minutes": 0}})
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})

    first, second = reopen(services), reopen(services)

    assert (first["changed"], second["changed"]) == (True, False)
    assert status(client)["state"] == "open"
    assert [issued["state"] for issued in logged(manager, "notice.issued")][-2:] == [
        "restored",
        "open",
    ]


def test_reopening_after_a_public_drill_is_no_longer_a_drill(admin, manager, services):
    admin.post(
        f"{SITE}/notice-settings", {"settings": {"public_on_drill": True, "restored_minutes": 0}}
    )
    manager.post(f"{SITE}/incidents", {"kind": "fire", "drill": True})
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "drill_over"})

    reopen(services)

    opened = logged(manager, "notice.issued")[-1]
    assert (opened["state"], opened["drill"], opened["kind"]) == ("open", False, None)


# --- the estimated reopening time of an incident the public was not told of ------------------


def test_a_private_drills_eta_leaves_a_site_never_closed_untouched(client, manager):
    manager.post(f"{SITE}/incidents", {"kind": "fire", "drill": True})

    changed = manager.post(f"{SITE}/incidents/current/update", {"eta": "2099-01-01T12:30:00Z"})

    assert changed.status_code == 200
    now = status(client)
    assert (now["state"], now["eta"], now["version"]) == ("open", None, 0)
    assert logged(manager, "notice.updated") == []


def test_a_private_drills_eta_leaves_open_again_as_it_was(client, manager):
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    before = status(client)
    manager.post(f"{SITE}/incidents", {"kind": "fire", "drill": True})

    changed = manager.post(f"{SITE}/incidents/current/update", {"eta": "2099-01-01T12:30:00Z"})

    assert changed.status_code == 200
    now = status(client)
    assert (now["state"], now["eta"], now["version"]) == ("restored", None, before["version"])
    assert logged(manager, "notice.updated") == []


# --- the notice settings ------------------------------------------------------------------


def test_notice_settings_without_settings_are_refused_as_required(admin, event_count):
    before = event_count()

    answer = admin.post(f"{SITE}/notice-settings", {})

    assert answer.status_code == 400
    assert answer.get_json()["detail"] == "'settings' is required."
    assert event_count() == before


def test_notice_settings_with_two_mistakes_point_at_the_first(admin, event_count):
    before = event_count()

    answer = admin.post(
        f"{SITE}/notice-settings", {"settings": {"public_on_drill": "yes", "no_such_setting": 1}}
    )

    assert answer.status_code == 400
    problem = answer.get_json()
    assert problem["detail"] == (
        "settings.no_such_setting: not a notice setting; "
        "settings.public_on_drill: must be true or false"
    )
    assert [p["field"] for p in problem["problems"]] == [
        "settings.no_such_setting",
        "settings.public_on_drill",
    ]
    assert problem["field"] == "settings.no_such_setting"  # the first the detail names
    assert event_count() == before


# --- a mailbox's switch, as the switcher reports it ------------------------------------------


@pytest.fixture
def graph(services):
    """Microsoft Graph's stand-in on 127.0.0.1, with BOX; the switcher talks to it."""
    standin = Graph("tenant-1", "client-1", "s3cret-value")
    standin.add_mailbox(BOX, {"status": "disabled"})
    services.mailboxes.providers = providers_for(standin.settings_for(services.settings))
    yield standin
    standin.close()


def test_a_mailbox_switched_at_once_logs_no_attempt_or_retry(services, admin, manager, graph):
    admin.post(
        f"{SITE}/notice-settings",
        {"settings": {"email": [{"provider": "microsoft365", "mailbox": BOX}]}},
    )
    manager.post(f"{SITE}/incidents", {"kind": "fire"})

    assert services.mailboxes.switch_due(services) == 1

    (switched,) = [e for e in logged(manager, "notice.switched") if e["channel"] == "email"]
    assert switched["mailbox"] == BOX and switched["answer"]["status"] == 200
    assert "attempt" not in switched and "retry_at" not in switched
    assert logged(manager, "notice.switch_failed") == []


# --- the mailbox password for ManageSieve -------------------------------------------------


def with_mailboxes(admin, *entries: tuple[str, str]) -> None:
    listed = [{"provider": provider, "mailbox": mailbox} for provider, mailbox in entries]
    answer = admin.post(f"{SITE}/notice-settings", {"settings": {"email": listed}})
    assert answer.status_code == 200, answer.get_json()


def test_a_mailbox_password_without_a_mailbox_is_refused_as_required(admin, event_count):
    with_mailboxes(admin, ("sieve", BOX))
    before = event_count()

    answer = admin.post(f"{SITE}/mailbox-passwords", {"password": "pw-Sieve-123"})

    assert answer.status_code == 400
    assert answer.get_json()["detail"] == "'mailbox' is required."
    assert event_count() == before


def test_only_a_listed_sieve_mailbox_takes_a_password(admin, event_count):
    with_mailboxes(admin, ("sieve", BOX), ("gmail", "gmail@shop.example"))
    before = event_count()

    for mailbox in ("x@shop.example", "gmail@shop.example"):
        refused = admin.post(
            f"{SITE}/mailbox-passwords", {"mailbox": mailbox, "password": "pw-Sieve-123"}
        )
        assert refused.status_code == 400, mailbox
        assert (
            refused.get_json()["detail"] == f"{mailbox} is not a listed sieve mailbox of this site."
        )
        assert refused.get_json()["field"] == "mailbox"
    assert event_count() == before

    kept = admin.post(f"{SITE}/mailbox-passwords", {"mailbox": BOX, "password": "pw-Sieve-123"})

    assert kept.status_code == 200
    assert (kept.get_json()["mailbox"], kept.get_json()["password_set"]) == (BOX, True)
    assert logged(admin, "mailbox.password_set") == [{"mailbox": BOX}]  # sealed: not shown


def test_the_longest_mailbox_and_password_are_kept_and_a_longer_mailbox_is_refused(admin):
    with_mailboxes(admin, ("sieve", LONGEST_BOX), ("sieve", TOO_LONG_BOX))
    assert len(LONGEST_BOX) == 320

    kept = admin.post(f"{SITE}/mailbox-passwords", {"mailbox": LONGEST_BOX, "password": "p" * 200})
    too_long = admin.post(
        f"{SITE}/mailbox-passwords", {"mailbox": TOO_LONG_BOX, "password": "pw-Sieve-123"}
    )

    assert kept.status_code == 200 and kept.get_json()["password_set"] is True
    assert too_long.status_code == 400
    assert too_long.get_json()["detail"] == "'mailbox' is longer than 320 characters."


# --- the restored time's last moment, the switcher's report, the sealed password -----------


@pytest.fixture
def clock(monkeypatch):
    """The commands' and the timers' clock, moved on by the test: {"now": UTC ms}."""
    moment = {"now": server_clock() + 1000}
    monkeypatch.setattr(commands_module, "now_ms", lambda: moment["now"])
    monkeypatch.setattr(timers_module, "now_ms", lambda: moment["now"])
    return moment


def test_the_channels_open_again_at_the_very_millisecond_the_restored_time_ends(
    client, manager, services, clock
):
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})  # 30 minutes
    until = parse_iso(logged(manager, "notice.issued")[-1]["restored_until"])

    clock["now"] = until - 1
    assert timers_module.reopen_due_sites(services) == []
    assert status(client)["state"] == "restored"

    clock["now"] = until  # the timer finds it due: the command must not refuse it
    assert timers_module.reopen_due_sites(services) == ["demo"]
    restored, opened = logged(manager, "notice.issued")[-2:]
    assert status(client)["state"] == "open"
    assert opened["since"] == restored["restored_until"]


def test_a_mailbox_switch_reported_without_its_outcome_is_refused_as_required(
    services, demo_links, event_count
):
    """The switcher's report (server/policies.py) is a command: without the outcome it is a
    refusal naming the field, not a crash, and nothing is logged."""
    before = event_count()

    with pytest.raises(Invalid, match="'outcome' is required."):
        execute(services, command_line("demo"), "demo", "record_mailbox_switch", {})

    assert event_count() == before


def kept_password(services, mailbox: str = BOX) -> str | None:
    """The password the switcher would log in with (None: EXITNOW_SIEVE_PASSWORD's)."""
    entry = {"provider": "sieve", "mailbox": mailbox}
    with services.store.reading() as db:
        return with_password(db, services.settings, "demo", entry).get("password")


def stored_text(services) -> str:
    with services.store.reading() as db:
        return "\n".join(
            str(row)
            for table in ("events", "mailbox_passwords")
            for row in db.execute(f"SELECT * FROM {table}")
        )


def test_a_mailbox_password_is_stored_sealed_and_the_switcher_unseals_it(admin, services):
    with_mailboxes(admin, ("sieve", BOX))

    kept = admin.post(f"{SITE}/mailbox-passwords", {"mailbox": BOX, "password": "pw-Sieve-123"})

    assert kept.status_code == 200
    assert "pw-Sieve-123" not in stored_text(services)  # neither in the log nor in the state
    assert kept_password(services) == "pw-Sieve-123"


def test_a_mailbox_password_longer_than_200_characters_is_refused(admin, event_count):
    with_mailboxes(admin, ("sieve", BOX))
    before = event_count()

    answer = admin.post(f"{SITE}/mailbox-passwords", {"mailbox": BOX, "password": "p" * 201})

    assert answer.status_code == 400
    assert answer.get_json()["detail"] == "'password' is longer than 200 characters."
    assert answer.get_json()["field"] == "password"
    assert event_count() == before
