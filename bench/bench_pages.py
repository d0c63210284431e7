"""Lighthouse (mobile profile) and the Nu HTML checker on Exit Now's pages, as phones see them.

    python -m bench.bench_pages --tools DIR [--repo PATH] [--out DIR]

DIR holds `npm i -E lighthouse@12.8.2 vnu-jar` (Node 20; Java for vnu.jar). Runs the real
`python -m server --demo` of this checkout (or --repo's) on 127.0.0.1, signs in a staff phone and
the duty manager by their enrollment links, and prints, for the staff app and the console idle
and during an alarm, the status page and the queue screen open and closed: Lighthouse's
performance, accessibility and best-practices scores with TBT, CLS and LCP; then the Nu checker
on 12 pages as Chromium built them. Not part of the test command (minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

from harness import REPO, LiveServer
from server.rules.auth import SESSION_COOKIE

CHROME = "/usr/bin/chromium"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --no-first-run"
)


def lighthouse(tools: Path, out: Path, name: str, url: str, cookie: str | None = None) -> None:
    report = out / f"{name}.json"
    args = [
        str(tools / "node_modules/.bin/lighthouse"),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    if cookie:
        args.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    subprocess.run(args, env={**os.environ, "CHROME_PATH": CHROME}, timeout=300, check=True)
    found = json.loads(report.read_text())
    score = {key: round(value["score"] * 100) for key, value in found["categories"].items()}
    audits = found["audits"]
    failing = [
        key
        for key, audit in audits.items()
        if audit.get("scoreDisplayMode") == "binary" and audit.get("score") == 0
    ]
    print(
        f"{name:16} performance {score['performance']:3}  accessibility {score['accessibility']:3}"
        f"  best practices {score['best-practices']:3}"
        f"  TBT {audits['total-blocking-time']['numericValue']:4.0f} ms"
        f"  CLS {audits['cumulative-layout-shift']['numericValue']:.3f}"
        f"  LCP {audits['largest-contentful-paint']['numericValue']:4.0f} ms"
        f"  failing: {', '.join(failing) or '-'}",
        flush=True,
    )


def nu_checker(tools: Path, server: LiveServer, manager: str, out: Path, link) -> None:
    pages = []

    def keep(page, name: str) -> None:
        page.wait_for_load_state("networkidle")
        html = "<!DOCTYPE html>\n" + page.evaluate("() => document.documentElement.outerHTML")
        pages.append(out / f"{name}.html")
        pages[-1].write_text(html)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROME, args=["--no-sandbox", "--disable-gpu"]
        )
        phone = browser.new_context(
            viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, locale="fi-FI"
        )
        staff = phone.new_page()
        staff.goto(server.url + "/")
        staff.wait_for_selector("#screen-signin:not([hidden])")
        keep(staff, "signed-out")
        staff.goto(link(2))
        staff.wait_for_function("() => document.getElementById('whose').textContent")
        keep(staff, "enroll")
        staff.click("#enroll")
        staff.wait_for_selector("#screen-home:not([hidden])")
        keep(staff, "home")
        console = phone.new_page()
        console.goto(link(1))
        console.click("#enroll")
        console.wait_for_selector("#screen-console-start:not([hidden])")
        keep(console, "console-start")
        console.goto(server.url + "/admin")
        console.locator("#people li button").first.click()
        console.wait_for_selector(".qr svg")
        keep(console, "admin")
        server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
        staff.wait_for_selector("#screen-alarm:not([hidden])")
        keep(staff, "alarm")
        staff.tap("#show-customer")
        keep(staff, "customer")
        staff.tap("#customer-close")
        console.goto(server.url + "/")
        console.wait_for_selector("#screen-console:not([hidden])")
        keep(console, "console")
        console.goto(server.url + "/screen/demo")
        console.wait_for_selector("#takeover:not([hidden])")
        keep(console, "screen-closed")
        server.post("/api/sites/demo/incidents/current/all-clear", manager, {"reason": "resolved"})
        staff.wait_for_selector("#screen-allclear:not([hidden])")
        keep(staff, "allclear")
        browser.close()
    for name, path in (
        ("status", "/status/demo?lang=fi"),
        ("report", "/api/sites/demo/incidents/1/report.html?lang=sv"),
    ):
        answer = requests.get(
            server.url + path, headers={"Authorization": f"Bearer {manager}"}, timeout=10
        )
        pages.append(out / f"{name}.html")
        pages[-1].write_text(answer.text)
    jar = tools / "node_modules/vnu-jar/build/dist/vnu.jar"
    checked = subprocess.run(
        ["java", "-jar", str(jar), "--format", "text", *map(str, pages)],
        capture_output=True,
        text=True,
        check=False,
    )
    said = (checked.stdout + checked.stderr).splitlines()
    errors = [line for line in said if line.startswith("Error")]
    warnings = [line for line in said if line.startswith("Warning")]
    print(
        f"Nu HTML checker, {len(pages)} pages ({', '.join(p.stem for p in pages)}): "
        f"{len(errors)} errors, {len(warnings)} warnings"
    )
    for line in errors + warnings:
        print("  " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tools", type=Path, required=True, help="folder with npm's lighthouse and vnu-jar"
    )
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose server runs")
    parser.add_argument("--out", type=Path, help="where the reports go (a temporary folder)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="exitnow-pages-"))
    out.mkdir(parents=True, exist_ok=True)
    server = LiveServer(out / "site.db", cwd=args.repo).start(demo=True)
    try:

        def link(staff_id: int) -> str:
            made = server.cli("enrollment-link", "--site", "demo", "--staff-id", str(staff_id))
            return made.stdout.strip().splitlines()[-1]

        def cookie(staff_id: int) -> str:
            answer = requests.post(
                server.url + "/api/enroll",
                json={"code": link(staff_id).rsplit("/", 1)[1]},
                timeout=10,
            )
            return f"{SESSION_COOKIE}={answer.cookies[SESSION_COOKIE]}"

        staff, console = cookie(2), cookie(1)
        manager = server.token("duty_manager", "Bench manager")
        lighthouse(args.tools, out, "status", server.url + "/status/demo")
        lighthouse(args.tools, out, "screen", server.url + "/screen/demo")
        lighthouse(args.tools, out, "staff app", server.url + "/", staff)
        lighthouse(args.tools, out, "console", server.url + "/", console)
        server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
        lighthouse(args.tools, out, "staff app alarm", server.url + "/", staff)
        lighthouse(args.tools, out, "console alarm", server.url + "/", console)
        lighthouse(args.tools, out, "status closed", server.url + "/status/demo")
        lighthouse(args.tools, out, "screen closed", server.url + "/screen/demo")
        server.post("/api/sites/demo/incidents/current/all-clear", manager, {"reason": "resolved"})
        nu_checker(args.tools, server, manager, out, link)
    finally:
        server.stop()
    print(f"reports in {out}")


if __name__ == "__main__":
    main()
