"""Every staff and console screen around an alarm, walked on phone-sized touch screens in
Finnish and Swedish, real and drill, at normal and at 200 % text (the phone's font size): no
English and no text key shows; at 200 % nothing is cut off or pushed out of the screen, and a
word breaks only where it shows a hyphen. Each screen is saved as a screenshot for a person to
look at (the folder is named at the end of the run)."""

from __future__ import annotations

import json
import re

import pytest

from harness import enrolled_page
from server.api.pages import PWA_DIR

MAIJA, AINO, ERIK = 1, 2, 3
SITE = "/api/sites/demo"
TEXTS = {
    lang: json.loads((PWA_DIR / "texts" / f"{lang}.json").read_text())
    for lang in ("fi", "sv", "en")
}


def english_fragments(lang: str) -> set[str]:
    """The pieces of the English sentences (between placeholders) of eight letters or more
    that the language's own sentences do not share."""
    own = " ".join(TEXTS[lang].values())
    pieces = set()
    for text in TEXTS["en"].values():
        for piece in re.split(r"\{\w+\}", text):
            piece = piece.strip(" .,:;()–-")
            if len(re.sub(r"[^A-Za-z]", "", piece)) >= 8 and piece not in own:
                pieces.add(piece)
    return pieces


# Nothing visible wider than its box or the screen; words broken only after a hyphen.
LAYOUT_PROBLEMS = r"""
() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const hidden = (el) => el.closest(".visually-hidden") || el.getClientRects().length === 0;
  const name = (el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${
    el.className ? "." + el.className : ""} ${el.scrollWidth}/${el.clientWidth} "${
    (el.innerText || "").slice(0, 30)}"`;
  for (const el of document.body.querySelectorAll("*")) {
    if (hidden(el) || ["SCRIPT", "OPTION"].includes(el.tagName)) continue;
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 || box.left < -1) problems.push(`outside the screen: ${name(el)}`);
    if (el.tagName === "OL" && parseFloat(getComputedStyle(el).paddingLeft) < 1.5 * parseFloat(getComputedStyle(el).fontSize)) {
      problems.push(`list numbers cut off: ${name(el)}`);
    }
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === "visible") {
      problems.push(`cut off: ${name(el)}`);
    }
  }
  // A word may break only where it can show a hyphen: the browser breaks nowhere else while
  // overflow-wrap and word-break are normal, and a word over two lines must have one to show.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (hidden(node.parentElement)) continue;
    const style = getComputedStyle(node.parentElement);
    if (style.overflowWrap !== "normal" || style.wordBreak !== "normal") {
      problems.push(`may break anywhere: ${name(node.parentElement)}`);
    }
    for (const word of node.data.matchAll(/[\p{L}\u00ad-]+/gu)) {
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
      if (lines > 1 && !/[\u00ad-]/.test(word[0])) problems.push(`broken without a hyphen: "${word[0]}"`);
    }
  }
  return problems;
}
"""


class Walk:
    """One language, drill or real, one text size: checks each screen and saves it."""

    def __init__(self, lang: str, drill: bool, scale: int, folder):
        self.lang, self.drill, self.scale, self.folder = lang, drill, scale, folder
        self.english = english_fragments(lang)
        self.keys = set(TEXTS["en"])
        self.sessions = []  # the DevTools sessions that hold the pages' text size

    def phone(self, new_phone, server, staff_id: int):
        page = enrolled_page(new_phone(), server, staff_id, lang=self.lang)
        page.wait_for_function("() => document.getElementById('connection')?.className === 'ok'")
        if self.scale != 100:
            # The phone's font size setting: the browser's default size, which rem follows.
            # The setting lasts as long as its DevTools session: the walk keeps it.
            cdp = page.context.new_cdp_session(page)
            size = 16 * self.scale // 100
            cdp.send("Page.setFontSizes", {"fontSizes": {"standard": size, "fixed": size}})
            self.sessions.append(cdp)
            root = page.evaluate("() => getComputedStyle(document.documentElement).fontSize")
            assert root == f"{size * 1.25:g}px"  # html { font-size: 125% } of the setting
        return page

    def check(self, page, name: str) -> None:
        page.wait_for_timeout(300)  # the screen's own layout pass (js/fit.js) after the change
        shown = page.inner_text("body")
        assert [piece for piece in self.english if piece in shown] == [], name
        assert [key for key in self.keys if key in shown] == [], name
        if self.scale != 100:
            assert page.evaluate(LAYOUT_PROBLEMS) == [], name
        kind = "drill" if self.drill else "real"
        # A confirmation panel is fixed to the screen: it shows as the person sees it.
        path = self.folder / f"{self.lang}-{kind}-{self.scale}-{name}.png"
        self.screenshot(page, path, whole_page="armed" not in name)

    def screenshot(self, page, path, whole_page: bool) -> None:
        """The whole page, or what the screen shows. Chromium lays a whole-page picture out
        again without the text size setting: at a larger size, one picture per screenful."""
        if self.scale == 100 or not whole_page:
            page.screenshot(path=path, full_page=whole_page)
            return
        height = page.viewport_size["height"]
        pages = page.evaluate("() => document.documentElement.scrollHeight") // height + 1
        for part in range(min(pages, 12)):
            page.evaluate(f"() => scrollTo(0, {part * height})")
            page.screenshot(path=path.with_name(f"{path.stem}-{part + 1}.png"))
        page.evaluate("() => scrollTo(0, 0)")


WALKS = [
    ("fi", False, 100),
    ("fi", True, 100),
    ("sv", False, 100),
    ("sv", True, 100),
    ("fi", False, 200),
    ("sv", True, 200),
]


@pytest.mark.parametrize(("lang", "drill", "scale"), WALKS)
def test_screens_speak_the_phones_language_and_fit(
    server_with, new_phone, screenshots, lang, drill, scale
):
    server, _ = server_with({})  # only the demo's people, with their own names
    manager = server.token("duty_manager", "Maija Manager")
    walk = Walk(lang, drill, scale, screenshots)
    console = walk.phone(new_phone, server, MAIJA)
    staff = walk.phone(new_phone, server, AINO if lang == "fi" else ERIK)
    console.wait_for_selector("#screen-console-start:not([hidden])")
    walk.check(staff, "home")

    console.tap("#kinds button[data-kind=fire]")
    if drill:
        console.tap("#start-drill")
    walk.check(console, "console-start-armed")
    console.tap("#start-confirm")

    staff.wait_for_selector("#screen-alarm:not([hidden])", timeout=5_000)
    console.wait_for_selector("#screen-console:not([hidden])", timeout=5_000)
    staff.wait_for_function("() => document.getElementById('outbox').hidden")
    walk.check(staff, "alarm")
    staff.tap("#ack")
    staff.tap("#zone-claim")
    staff.tap("#help-send")
    staff.wait_for_function("() => document.getElementById('help-mine').innerText !== ''")
    staff.tap("#backup summary")
    walk.check(staff, "alarm-after-taps")
    console.wait_for_selector("#help-alert:not([hidden])", timeout=5_000)
    walk.check(console, "console")

    console.locator("#reasons button:visible").first.tap()
    walk.check(console, "console-all-clear-armed")
    staff.tap("#show-customer")
    walk.check(staff, "customer")
    console.tap("#allclear-confirm")

    staff.wait_for_selector("#screen-allclear:not([hidden])", timeout=5_000)
    walk.check(staff, "all-clear")
    console.wait_for_selector("#screen-console-start:not([hidden])", timeout=5_000)
    walk.check(console, "console-after")
    assert server.get(f"{SITE}/state", manager).json()["incident"] is None
