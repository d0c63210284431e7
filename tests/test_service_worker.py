"""The service worker's shell holds every file the staff app loads, and its cache name
changes whenever a file of the app does, so that an installed phone never runs a mix of
old and new files offline."""

from __future__ import annotations

import re
import shutil

from server.api.pages import PWA_DIR, modules_of, shell_version

PAGE_FILE = re.compile(r"""<(?:link|script)\b[^>]*\b(?:href|src)="(/[^"]*)\"""")


def shell_list() -> set[str]:
    source = (PWA_DIR / "sw.js").read_text()
    listing = re.search(r"const SHELL = \[(.*?)\];", source, re.S).group(1)
    return set(re.findall(r'"([^"]+)"', listing))


def on_disk(url: str):
    return PWA_DIR / url.removeprefix("/pwa/")


def files_the_app_loads() -> set[str]:
    page = (PWA_DIR / "index.html").read_text()
    files = {"/"} | set(PAGE_FILE.findall(page))
    for url in [f for f in files if f.endswith(".js")]:
        files |= modules_of(url)  # the same import graph the app's modulepreloads come from
    # texts.js fetches the phone's language at run time: every language must work offline.
    files |= {f"/pwa/texts/{path.name}" for path in (PWA_DIR / "texts").glob("*.json")}
    return files


def test_every_file_the_staff_app_loads_is_in_the_offline_shell():
    missing = files_the_app_loads() - shell_list()

    assert missing == set()


def test_every_file_in_the_shell_exists():
    urls = shell_list() - {"/", "/manifest.webmanifest"}

    assert [url for url in urls if not on_disk(url).is_file()] == []


def test_the_served_worker_names_its_cache_after_the_apps_files(client):
    served = client.get("/sw.js")

    assert served.status_code == 200
    assert served.headers["Cache-Control"] == "no-cache"
    assert f'"exitnow-shell-{shell_version(PWA_DIR)}"' in served.text
    assert "@SHELL_VERSION@" not in served.text


def test_changing_any_file_of_the_app_changes_the_cache_name(tmp_path):
    copy = tmp_path / "pwa"
    shutil.copytree(PWA_DIR, copy)
    before = shell_version(copy)
    (copy / "js" / "server.js").write_text((copy / "js" / "server.js").read_text() + "\n")
    shell_version.cache_clear()

    assert shell_version(copy) != before


def test_the_app_page_preloads_every_module_it_imports(client):
    # One round trip for the whole app instead of one per level of imports (a slow network).
    page = client.get("/").get_data(as_text=True)
    preloaded = set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', page))
    assert preloaded == modules_of("/pwa/js/app.js")
    assert "/pwa/js/when.js" in preloaded  # imported by the screens, not by app.js itself
