"""/cap/<site>.atom: an Atom feed (RFC 4287) of the site's CAP alerts for those who poll, newest
first, each entry linking its own CAP 1.2 document, which stays as it was issued."""

from __future__ import annotations

from urllib.parse import urljoin

import feedparser
import pytest
import test_cap
from lxml import etree

from harness import unit_settings

cap_schema = test_cap.cap_schema  # the OASIS CAP 1.2 schema, a fixture
ATOM = "{http://www.w3.org/2005/Atom}"
SITE = "/api/sites/demo"
PUBLIC = "https://alerts.shop.example"  # EXITNOW_PUBLIC_URL
FEED = f"{PUBLIC}/cap/demo.atom"


@pytest.fixture
def settings(tmp_path):
    return unit_settings(tmp_path / "exitnow.db").with_changes(public_url=PUBLIC + "/")


def feed_of(client):
    answer = client.get("/cap/demo.atom")
    assert answer.status_code == 200
    assert answer.content_type.startswith("application/atom+xml")
    parsed = feedparser.parse(
        answer.data,
        response_headers={"content-type": answer.content_type, "content-location": FEED},
    )
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return answer, parsed


def assert_atom_structure(data: bytes) -> etree._Element:
    """What RFC 4287 requires of a feed and its entries (4.1.1, 4.1.2)."""
    feed = etree.fromstring(data)
    assert feed.tag == f"{ATOM}feed"
    for element in ("id", "title", "updated", "author"):
        assert len(feed.findall(f"{ATOM}{element}")) == 1, element
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    for entry in feed.findall(f"{ATOM}entry"):
        for element in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{element}")) == 1, element
        assert entry.findtext(f"{ATOM}id").startswith("urn:uuid:")
    return feed


def test_a_site_that_never_closed_has_an_empty_valid_feed(client, demo_links):
    answer, parsed = feed_of(client)
    assert_atom_structure(answer.data)
    assert parsed.entries == []
    assert parsed.feed.title == "Exit Now demo shop"


def test_the_feed_lists_every_cap_message_newest_first_each_linking_its_alert(
    client, api_as, cap_schema
):
    manager = api_as("duty_manager")
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    manager.post(f"{SITE}/incidents/current/update", {"eta": "2099-01-01T12:00:00Z"})
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})

    answer, parsed = feed_of(client)

    assert_atom_structure(answer.data)
    kinds = [entry.tags[0].term for entry in parsed.entries]
    assert kinds == ["Cancel", "Update", "Alert"]
    updated = [entry.updated_parsed for entry in parsed.entries]
    assert updated == sorted(updated, reverse=True)
    for entry in parsed.entries:
        (link,) = [link for link in entry.links if link.type == "application/cap+xml"]
        assert link.href.startswith(f"{PUBLIC}/cap/demo/")
        document = client.get(link.href.removeprefix(PUBLIC))
        assert document.status_code == 200
        assert document.content_type.startswith("application/cap+xml")
        alert = etree.fromstring(document.data)
        assert cap_schema.validate(alert), cap_schema.error_log
        assert alert.findtext("{urn:oasis:names:tc:emergency:cap:1.2}msgType") == entry.tags[0].term
    assert "palohälytys" in parsed.entries[2].title  # the site's first language


def test_the_current_message_in_the_feed_is_the_current_cap_alert(client, api_as):
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "evacuation"})

    _, parsed = feed_of(client)

    newest = urljoin("/", parsed.entries[0].links[0].href.removeprefix(PUBLIC))
    assert client.get(newest).data == client.get("/cap/demo.xml").data


def test_a_second_incident_adds_to_the_feed_and_keeps_the_first(client, api_as):
    manager = api_as("duty_manager")
    for kind in ("fire", "threat"):
        manager.post(f"{SITE}/incidents", {"kind": kind})
        manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})

    _, parsed = feed_of(client)

    hrefs = [entry.links[0].href for entry in parsed.entries]
    assert [href.rsplit("/", 1)[1] for href in hrefs] == [
        "exitnow-demo-incident-2-cancel.xml",
        "exitnow-demo-incident-2.xml",
        "exitnow-demo-incident-1-cancel.xml",
        "exitnow-demo-incident-1.xml",
    ]


@pytest.mark.parametrize(
    "path", ["/cap/nowhere.atom", "/cap/demo/not-issued.xml", "/cap/demo/..%2Fcap.xml"]
)
def test_an_unknown_feed_or_message_is_404(client, demo_links, path):
    assert client.get(path).status_code == 404


def test_every_link_of_the_feed_is_absolute_and_the_feed_names_its_base(client, api_as):
    """A reader that holds the feed without its address (a copy, a cache, a signage box's
    store) still finds each message: links at the public address, and xml:base."""
    manager = api_as("duty_manager")
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})

    feed = assert_atom_structure(client.get("/cap/demo.atom").data)

    assert feed.get("{http://www.w3.org/XML/1998/namespace}base") == FEED
    hrefs = [link.get("href") for link in feed.iter(f"{ATOM}link")]
    assert len(hrefs) == 4  # self, the status page, two messages
    assert all(href.startswith(f"{PUBLIC}/") for href in hrefs), hrefs
    for href in hrefs:
        assert client.get(href.removeprefix(PUBLIC)).status_code == 200, href
