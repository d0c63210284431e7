"""The console's banner about the server's disk (issue 28), in Chromium: admins and duty
managers see it while the free space is below EXITNOW_MIN_FREE_MB; staff phones do not."""

from __future__ import annotations

from harness import enrolled_page, prepare_database

MAIJA, AINO = 1, 2  # the demo's duty manager and a member of staff


def test_console_warns_the_duty_manager_when_the_disk_is_nearly_full(
    tmp_path, live_servers, new_phone, screenshots
):
    db_path = tmp_path / "site.db"
    prepare_database(db_path, {})
    # More free space asked for than any test machine has: the disk counts as nearly full.
    server = live_servers(db_path, {"EXITNOW_MIN_FREE_MB": str(1 << 40)}).start()

    console = enrolled_page(new_phone(), server, MAIJA, lang="en")
    console.wait_for_selector("#disk-warning:not([hidden])", timeout=10_000)
    text = console.inner_text("#disk-warning")
    assert "The server's disk is almost full" in text and "Ask IT to free space" in text
    console.screenshot(path=screenshots / "console-disk-warning.png")

    finnish = enrolled_page(new_phone(), server, MAIJA, lang="fi")
    finnish.wait_for_selector("#disk-warning:not([hidden])", timeout=10_000)
    assert "Palvelimen levy on melkein täynnä" in finnish.inner_text("#disk-warning")

    phone = enrolled_page(new_phone(), server, AINO, lang="en")
    phone.wait_for_selector("#screen-home:not([hidden])")
    phone.wait_for_function("() => document.getElementById('connection').className === 'ok'")
    assert phone.is_hidden("#disk-warning")
