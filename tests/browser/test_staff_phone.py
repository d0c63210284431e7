"""The staff phone and the duty manager's console around the alarm, on phone-sized touch
screens: what was done offline arrives in the order it was done, a refusal is told in the
person's language, the roll call tells "no phone" from "no answer", the all-clear reaches the
staff, help and backup are confirmed to the one who asked, and a drill never looks real."""

from __future__ import annotations

import pytest

from harness import enrolled_page

MAIJA, AINO, ERIK, VILLE = 1, 2, 3, 6  # duty manager (fi), staff (fi), staff (sv), guard (fi)
SITE = "/api/sites/demo"


def on_phone(new_phone, server, staff_id: int, lang: str | None = None):
    """That person's own phone, enrolled and connected."""
    page = enrolled_page(new_phone(), server, staff_id, lang=lang)
    page.wait_for_function("() => document.getElementById('connection')?.className === 'ok'")
    return page


def shows(page, selector: str, text: str, timeout: float = 10_000) -> None:
    page.wait_for_function(
        "([s, t]) => document.querySelector(s).innerText.includes(t)",
        arg=[selector, text],
        timeout=timeout,
    )


def logged(server, token, *types: str) -> list[dict]:
    events = server.get(f"{SITE}/events?after=0&limit=1000", token).json()["events"]
    return [e for e in events if e["type"] in types]


def alarm_on(page) -> None:
    page.wait_for_selector("#screen-alarm:not([hidden])", timeout=5_000)
    page.wait_for_function("() => document.getElementById('outbox').hidden")  # the receipt


def during_an_alarm(site, new_phone, *people: int, **incident) -> list:
    """Their own phones once an incident runs (a fire unless `incident` says otherwise): the
    duty manager's on the console, everyone else's on the alarm screen."""
    server, manager, _ = site
    phones = [on_phone(new_phone, server, person) for person in people]
    server.post(f"{SITE}/incidents", manager, {"kind": "fire", **incident})
    for person, phone in zip(people, phones, strict=True):
        if person == MAIJA:
            phone.wait_for_selector("#screen-console:not([hidden])", timeout=5_000)
        else:
            alarm_on(phone)
    return phones


@pytest.fixture
def site(server_with):
    """The demo site with a duty manager's token and a colleague's (who has a phone)."""
    server, tokens = server_with({"duty_manager": 1, "staff": 1})
    return server, tokens["duty_manager"][0], tokens["staff"][0]


def test_actions_taken_offline_arrive_in_the_order_they_were_taken(site, new_phone):
    server, manager, _ = site
    [phone] = during_an_alarm(site, new_phone, AINO)

    phone.context.set_offline(True)
    # "got it" before "safe" (safe would also mark got it, and "got it" after it is no news),
    # "I am sweeping" before "zone clear" (a claim after the clear is refused).
    for button in ("#ack", "#zone-claim", "#zone-clear", "#safe"):
        phone.tap(button)
    phone.wait_for_selector("#outbox:not([hidden])")
    phone.context.set_offline(False)

    phone.wait_for_selector("#outbox", state="hidden", timeout=30_000)
    types = ("alarm.acknowledged", "zone.claimed", "zone.cleared", "staff.safe")
    assert [e["type"] for e in logged(server, manager, *types)] == list(types)
    assert phone.is_hidden("#refused")


def test_a_refused_queued_action_is_told_in_the_persons_language(site, new_phone):
    server, _, colleague = site
    [phone] = during_an_alarm(site, new_phone, ERIK)  # Swedish, home zone Grocery

    phone.context.set_offline(True)
    phone.tap("#zone-claim")
    phone.wait_for_selector("#outbox:not([hidden])")
    server.post(f"{SITE}/zones/grocery/claim", colleague)  # someone else was quicker
    phone.context.set_offline(False)

    phone.wait_for_selector("#refused:not([hidden])", timeout=30_000)
    told = phone.inner_text("#refused")
    assert "Inte registrerat: genomsöker. Någon annan hann ändra läget" in told
    assert "already" not in told and "sweeping" not in told  # not the server's English
    phone.tap("#refused-ok")
    assert phone.is_hidden("#refused")


def test_roll_call_tells_no_phone_from_no_answer(site, new_phone):
    server, manager, _ = site
    console = on_phone(new_phone, server, MAIJA)  # Finnish
    on_phone(new_phone, server, AINO)
    server.post(f"{SITE}/incidents", manager, {"kind": "fire"})
    console.wait_for_selector("#screen-console:not([hidden])", timeout=5_000)

    # Four have a phone (Maija's, Aino's and two tokens); Erik, Sara, Pekka and Ville have none.
    shows(console, "#roll-summary", "4 henkilöllä ei ole puhelinta: hälytys ei tavoita heitä")
    shows(console, "#roll-summary", "/4 puhelimessa")
    roll = console.inner_text("#roll-people")
    assert "Erik Lindqvist: ei puhelinta" in roll
    assert "Aino Aaltonen: ei puhelinta" not in roll


def test_the_all_clear_shows_on_staff_phones_until_dismissed(site, new_phone):
    server, manager, _ = site
    aino, erik = during_an_alarm(site, new_phone, AINO, ERIK)

    server.post(f"{SITE}/incidents/current/all-clear", manager, {"reason": "false_alarm"})

    for phone, reason in ((aino, "väärä hälytys"), (erik, "falsklarm")):
        phone.wait_for_selector("#screen-allclear:not([hidden])", timeout=5_000)
        assert reason in phone.inner_text("#allclear-reason")
    assert aino.inner_text("#allclear-title") == "Vaara ohi"
    assert erik.inner_text("#allclear-title") == "Faran över"
    aino.wait_for_timeout(1000)
    assert aino.is_visible("#screen-allclear")  # until the person has seen it
    aino.tap("#allclear-dismiss")
    aino.wait_for_selector("#screen-home:not([hidden])")


def test_help_is_confirmed_to_the_asker_and_alerts_the_manager_in_her_words(site, new_phone):
    # Maija's console is in Finnish, Erik's phone in Swedish; he is in Grocery.
    console, erik = during_an_alarm(site, new_phone, MAIJA, ERIK)

    erik.fill("#help-note", "rullstol")
    erik.tap("#help-send")

    shows(erik, "#help-mine", "Hjälpbegäran skickad kl.")
    shows(erik, "#help-mine", "zon Elintarvikkeet / Livsmedel. Den skiftansvarige ser den.")
    console.wait_for_selector("#help-alert:not([hidden])", timeout=5_000)
    assert "1 henkilö tarvitsee apua poistumiseen" in console.inner_text("#help-alert")
    assert console.inner_text("#announcer") == "Apua tarvitaan: alue Elintarvikkeet / Livsmedel"
    assert (
        "Alue Elintarvikkeet / Livsmedel (rullstol): Erik Lindqvist pyysi klo"
        in console.inner_text("#console-help")
    )
    assert "Zon" not in console.inner_text("#screen-console")

    console.tap("#console-help button")

    shows(
        erik,
        "#help-mine",
        "Din hjälpbegäran är åtgärdad (zon Elintarvikkeet / Livsmedel): Maija Manager.",
    )
    console.wait_for_selector("#help-alert", state="hidden", timeout=5_000)


def test_backup_from_the_alarm_screen_waits_then_says_who_is_coming(site, new_phone):
    server, manager, _ = site
    guard, aino = during_an_alarm(site, new_phone, VILLE, AINO, kind="threat")

    aino.tap("#backup summary")  # on the alarm screen too
    aino.fill("#backup-location", "Kassa 3")
    aino.tap("#backup-send")

    shows(aino, "#backup-active", "Odota vastausta")  # nobody has answered yet
    assert "tulossa" not in aino.inner_text("#backup")
    shows(guard, "#backup-request-list", "Aino Aaltonen tarvitsee tukea: Kassa 3")
    guard.tap("#backup-request-list button")

    # The place stays in sight of the one on the way; the one who asked is told who comes.
    shows(guard, "#backup-request-list", "Olet matkalla: Aino Aaltonen, Kassa 3")
    shows(aino, "#backup-answered", "Ville Vartija on tulossa luoksesi.")
    [answered] = logged(server, manager, "backup.answered")
    assert answered["actor"]["name"] == "Ville Vartija"
    guard.tap("#backup-request-list button")  # OK
    guard.wait_for_selector("#backup-requests", state="hidden")


@pytest.mark.parametrize("drill", [False, True])
def test_a_drill_and_a_real_alarm_never_look_alike(site, new_phone, drill):
    console, aino = during_an_alarm(site, new_phone, MAIJA, AINO, drill=drill)

    for page, screen in ((aino, "#screen-alarm"), (console, "#screen-console")):
        text = page.inner_text(f"{screen} .alarm-head")
        background = page.eval_on_selector(
            f"{screen} .alarm-head", "e => getComputedStyle(e).backgroundImage"
        )
        assert page.is_visible(f"{screen} .drill") is drill
        if drill:
            assert "HARJOITUS" in text and "TOSITILANNE" not in text
            assert "repeating-linear-gradient" in background  # blue stripes
        else:
            assert "TOSITILANNE – EI HARJOITUS" in text
            assert background == "none"  # plain red
    aino.tap("#show-customer")
    aino.tap("#customer-languages button[lang=en]")
    assert aino.is_visible("#customer-drill") is drill
    if drill:
        assert aino.inner_text("#customer-drill") == "DRILL"  # in the customer's language
