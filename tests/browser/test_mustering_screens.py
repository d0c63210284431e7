"""Everyone accounted for, on phone-sized touch screens in Finnish and Swedish: the marshal's
screen at the assembly point (one mark made offline arrives once and in order, and the
console's counts follow), the assembly point sign's QR code read back to its link and
scanned by an enrolled phone, the visitor's own page (sign in, "I am out", sign out), and the
reception desk with the unaccounted list for the fire brigade. Every state passes axe-core's
WCAG 2.1 AA checks."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from harness import enrolled_page, eventually

MAIJA, AINO, ERIK, SARA, PEKKA = 1, 2, 3, 4, 5  # duty manager; staff; Pekka is a marshal
SITE = "/api/sites/demo"
POINT_A = "Parkkipaikka, valotolppa A / Parkeringen, lyktstolpe A"


def on_phone(new_phone, server, staff_id: int, lang: str | None = None):
    page = enrolled_page(new_phone(), server, staff_id, lang=lang)
    page.on("console", lambda m: print("CONSOLE", staff_id, m.text))
    page.on("pageerror", lambda e: print("PAGEERROR", staff_id, e))
    page.wait_for_function("() => document.getElementById('connection')?.className === 'ok'")
    return page


def shows(page, selector: str, text: str, timeout: float = 10_000) -> None:
    page.wait_for_function(
        "([s, t]) => document.querySelector(s)?.innerText.includes(t)",
        arg=[selector, text],
        timeout=timeout,
    )


def logged(server, token, *types: str) -> list[dict]:
    events = server.get(f"{SITE}/events?after=0&limit=1000", token).json()["events"]
    return [e for e in events if e["type"] in types]


def passes_axe(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": tags}})
    assert results.violations_count == 0, results.generate_report()


def fits_the_width(page) -> None:
    """Nothing wider than the phone, also at 200 % text."""
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    page.evaluate("() => { document.documentElement.style.fontSize = '250%'; }")  # 200 % of 125 %
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    page.evaluate("() => { document.documentElement.style.fontSize = ''; }")


@pytest.fixture
def site(server_with):
    server, tokens = server_with({"duty_manager": 1})
    return server, tokens["duty_manager"][0]


def test_a_marshal_marks_three_people_one_offline_and_the_console_counts_follow(
    site, new_phone, screenshots
):
    server, manager = site
    visitor = server.post(
        f"{SITE}/visitors", manager, {"name": "Olli Urakoitsija", "company": "Putki Oy"}
    ).json()
    console = on_phone(new_phone, server, MAIJA)  # Finnish
    pekka = on_phone(new_phone, server, PEKKA)  # Finnish, a marshal, lamp post B
    server.post(f"{SITE}/incidents", manager, {"kind": "fire"})
    console.wait_for_selector("#screen-console:not([hidden])", timeout=5_000)
    pekka.wait_for_selector("#alarm-marshal:not([hidden])", timeout=5_000)
    shows(console, "#roll-muster", "8 henkilöä paikalla")  # seven on the roll, one contractor
    shows(console, "#roll-muster", "heistä 1 on vierailija")

    pekka.tap("#alarm-marshal")
    pekka.wait_for_selector("#marshal-roll:not([hidden])", timeout=10_000)
    shows(pekka, "#marshal-counts", "8 puuttuu")
    assert "Odotetaan tänne: Parkkipaikka, valotolppa B" in pekka.inner_text("#marshal-roll")
    expected = pekka.inner_text("#marshal-expected")
    assert "Sara Smith" in expected and "Erik Lindqvist" not in expected  # Erik goes to A
    passes_axe(pekka)

    # Sara has no phone: Pekka sees her at the point.
    pekka.tap(f"[data-person='staff-{SARA}'] .mark")
    shows(pekka, f"[data-person='staff-{SARA}']", "Paikalla, Parkkipaikka, valotolppa B")
    shows(console, "#roll-muster", "1 todettu turvassa")
    shows(console, "#roll-people", "Sara Smith: todettu turvassa")

    # Erik, found by name, marked while the network is gone: waiting, and counted so.
    pekka.context.set_offline(True)
    pekka.fill("#marshal-search", "erik")
    assert "Sara Smith" not in pekka.inner_text("#marshal-roll")
    pekka.tap(f"[data-person='staff-{ERIK}'] .mark")
    shows(pekka, f"[data-person='staff-{ERIK}']", "Merkitty paikalle. Ei vielä lähetetty.")
    shows(pekka, "#marshal-counts", "1 merkintä lähettämättä")
    shows(pekka, "#marshal-counts", "2 todettu turvassa")
    pekka.screenshot(path=screenshots / "marshal-offline-fi.png", full_page=True)
    pekka.context.set_offline(False)
    pekka.wait_for_selector("#outbox", state="hidden", timeout=30_000)
    shows(pekka, f"[data-person='staff-{ERIK}']", "Paikalla, Parkkipaikka, valotolppa B", 15_000)

    # The contractor, back online.
    pekka.fill("#marshal-search", "")
    pekka.tap(f"[data-person='visitor-{visitor['visitor_id']}'] .mark")
    shows(pekka, "#marshal-counts", "3 todettu turvassa")
    shows(pekka, "#marshal-counts", "5 puuttuu")
    shows(console, "#roll-muster", "5 puuttuu")
    shows(console, "#roll-visitors", "Olli Urakoitsija (vierailija, Putki Oy): todettu turvassa")
    pekka.screenshot(path=screenshots / "marshal-fi.png", full_page=True)
    console.screenshot(path=screenshots / "console-muster-fi.png", full_page=True)
    passes_axe(pekka)
    fits_the_width(pekka)

    marks = logged(server, manager, "person.accounted")
    named = [m["payload"].get("staff_id") or ("visitor", m["payload"]["visitor_id"]) for m in marks]
    assert named == [SARA, ERIK, ("visitor", visitor["visitor_id"])]  # each once, in order
    assert {m["payload"]["assembly_point"] for m in marks} == {"lamp-post-b"}
    assert {m["actor"]["staff_id"] for m in marks} == {PEKKA}


def read_qr(png: bytes) -> str:
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return code.text


def test_the_signs_qr_code_marks_an_enrolled_phone_safe_at_its_point(site, new_phone, screenshots):
    server, manager = site
    console = on_phone(new_phone, server, MAIJA)
    console.goto(f"{server.url}/sites/demo/assembly-points/lamp-post-a/sign")
    link = read_qr(console.locator("svg").first.screenshot())
    assert link == f"{server.url}/checkin/demo/lamp-post-a"

    erik = on_phone(new_phone, server, ERIK)  # Swedish
    erik.goto(link)
    shows(erik, "#checkin", "Inget larm pågår nu.")
    assert logged(server, manager, "staff.safe") == []

    server.post(f"{SITE}/incidents", manager, {"kind": "fire"})
    erik.goto(link)
    shows(erik, "#checkin", f"Du är registrerad i säkerhet vid {POINT_A}.")
    erik.wait_for_selector("#outbox", state="hidden", timeout=10_000)
    erik.wait_for_selector("#safe-done:not([hidden])")
    [safe] = eventually(lambda: logged(server, manager, "staff.safe"))
    assert safe["payload"] | {"incident_id": 0} == {
        "incident_id": 0,
        "staff_id": ERIK,
        "assembly_point": "lamp-post-a",
        "how": "qr",
    }
    assert erik.evaluate("location.pathname") == "/"  # a reload is the app, not a second check-in
    erik.screenshot(path=screenshots / "checkin-sv.png", full_page=True)
    passes_axe(erik)

    stranger = new_phone().new_page()  # a phone nobody enrolled
    stranger.goto(f"{link}?lang=fi")
    shows(stranger, "#checkin", "Tätä puhelinta ei ole otettu käyttöön Exit Now'ssa.")
    assert len(logged(server, manager, "staff.safe")) == 1


def test_a_visitor_signs_in_says_i_am_out_in_the_alarm_and_signs_out(site, new_phone, screenshots):
    server, manager = site
    page = new_phone().new_page()
    page.goto(f"{server.url}/visit/demo?lang=sv")
    page.wait_for_selector("#visit-signin:not([hidden])")
    assert page.inner_text("h1:visible") == "Skriv in dig"
    passes_axe(page)
    fits_the_width(page)
    page.tap("button[lang=fi]")  # the chooser
    shows(page, "#visit-signin", "Kirjaudu sisään")
    page.tap("button[lang=sv]")
    shows(page, "#visit-signin", "Skriv in dig")

    page.fill("#visit-name", "Lisa Lind")
    page.fill("#visit-company", "Kyla AB")
    page.fill("#visit-phone", "070 123 45 67")  # no country code: said, nothing sent
    page.tap("#visit-form button[type=submit]")
    shows(page, "#visit-status", "Skriv numret med landsnummer")
    assert logged(server, manager, "visitor.signed_in") == []
    page.fill("#visit-phone", "+46 70 123 45 67")
    page.tap("#visit-form button[type=submit]")
    shows(page, "#visit-hello", "Du är inskriven, Lisa Lind.")
    [signed_in] = logged(server, manager, "visitor.signed_in")
    assert signed_in["payload"]["person"] == {
        "name": "Lisa Lind",
        "company": "Kyla AB",
        "phone": "+46701234567",
    }
    assert signed_in["payload"]["language"] == "sv"
    assert page.evaluate("location.hash").startswith(f"#{signed_in['payload']['visitor_id']}.")
    passes_axe(page)

    server.post(f"{SITE}/incidents", manager, {"kind": "fire"})
    page.goto(f"{server.url}/visit/demo")  # the link kept in this browser
    page.wait_for_selector("#visit-alarm:not([hidden])")
    assert page.inner_text("#visit-alarm-title") == "Brand"
    assert "Gå ut genast" in page.inner_text("#visit-alarm-do")
    page.screenshot(path=screenshots / "visit-alarm-sv.png", full_page=True)
    passes_axe(page)
    fits_the_width(page)
    page.tap("#visit-safe")
    page.wait_for_selector("#visit-safe-done:not([hidden])")  # answered by the server
    assert page.inner_text("#visit-safe-done") == "Tack. Vi vet att du är ute."
    assert page.is_hidden("#visit-safe")
    [out] = logged(server, manager, "person.accounted")
    assert out["payload"]["visitor_id"] == signed_in["payload"]["visitor_id"]
    assert out["payload"]["how"] == "phone"

    server.post(f"{SITE}/incidents/current/all-clear", manager, {"reason": "resolved"})
    page.reload()
    page.wait_for_selector("#visit-in:not([hidden])")
    assert page.is_hidden("#visit-alarm")
    page.tap("#visit-leave")
    page.wait_for_selector("#visit-gone:not([hidden])")
    assert page.inner_text("#visit-gone h1") == "Du är utskriven. Tack!"
    [left] = logged(server, manager, "visitor.left")
    assert left["payload"]["how"] == "self"
    passes_axe(page)


def test_the_desk_signs_a_visitor_in_who_is_on_the_unaccounted_list_until_signed_out(
    site, new_phone, screenshots
):
    server, manager = site
    console = on_phone(new_phone, server, MAIJA)  # Finnish
    console.tap("#start-reception")
    console.wait_for_selector("#screen-reception:not([hidden])")
    console.fill("#reception-name", "Olli Urakoitsija")
    console.fill("#reception-company", "Putki Oy")
    console.tap("#reception-form button[type=submit]")
    shows(console, "#reception-list", "Olli Urakoitsija, Putki Oy.")
    assert console.inner_text("#reception-list-heading") == "1 vierailija paikalla"
    passes_axe(console)
    console.tap("#reception-close")

    server.post(f"{SITE}/incidents", manager, {"kind": "fire"})
    console.wait_for_selector("#screen-console:not([hidden])", timeout=5_000)
    server.post(f"{SITE}/incidents/current/safe", manager)  # the manager's own token
    server.post(
        f"{SITE}/incidents/current/reported-inside",
        manager,
        {"staff_id": SARA, "location": "Varasto, kylmiö"},
    )
    server.post(f"{SITE}/zones/grocery/clear", manager)
    console.tap("#console-unaccounted")
    console.wait_for_selector("#screen-unaccounted:not([hidden])")
    shows(console, "#missing-title", "7 henkilöä puuttuu")
    people = console.inner_text("#missing-people")
    assert "Sara Smith" in people and "Ilmoitettu olevan sisällä: Varasto, kylmiö" in people
    assert "Työskentelee alueella: Vaatteet ja sovituskopit / Kläder och provrum" in people
    visitors = console.inner_text("#missing-visitors")
    assert "Olli Urakoitsija" in visitors and "Vierailija, Putki Oy." in visitors
    assert "Kirjautui sisään klo " in visitors and ", ei kirjautunut ulos." in visitors
    zones = console.inner_text("#missing-zones")
    assert "Varasto ja lastauslaituri / Lager och lastkaj: ei tarkastettu" in zones
    assert "Elintarvikkeet" not in zones  # swept clear
    console.screenshot(path=screenshots / "unaccounted-fi.png", full_page=True)
    passes_axe(console)
    console.emulate_media(media="print")
    console.screenshot(path=screenshots / "unaccounted-print-fi.png", full_page=True)
    assert console.is_hidden("#missing-print")
    console.emulate_media(media="screen")

    console.tap("#missing-close")
    console.tap("#console-reception")
    console.wait_for_selector("#screen-reception:not([hidden])")
    shows(console, "#reception-list", "Olli Urakoitsija")
    console.tap("#reception-list button")
    [left] = eventually(lambda: logged(server, manager, "visitor.left"))
    assert left["payload"]["how"] == "desk"  # out during the alarm: accounted for (left)
    console.tap("#reception-close")
    console.tap("#console-unaccounted")
    shows(console, "#missing-title", "6 henkilöä puuttuu")
    assert "Olli" not in console.inner_text("#screen-unaccounted")
