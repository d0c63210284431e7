"""The staff app's words (pwa/texts/<lang>.json): every sentence in every language, counts in
the plural forms of each language (key.one, key.other, chosen by Intl.PluralRules in
pwa/js/texts.js sayCount), and every key the app names exists."""

from __future__ import annotations

import json
import re

import pytest

from server.api.pages import PWA_DIR
from server.basics.names import LANGUAGES

TEXTS = {lang: json.loads((PWA_DIR / "texts" / f"{lang}.json").read_text()) for lang in LANGUAGES}
# The plural forms each language's rules give whole numbers (CLDR, as Intl.PluralRules has them).
PLURAL_FORMS = {"fi": {"one", "other"}, "sv": {"one", "other"}, "en": {"one", "other"}}
FORMS = {"zero", "one", "two", "few", "many", "other"}
# Placeholders that hold a number: a sentence with one is a plural family, said by sayCount.
NUMBERS = {
    "count",
    "seconds",
    "minutes",
    "zones",
    "help",
    "delivered",
    "enrolled",
    "acknowledged",
    "safe",
    "ready",
    "total",
    "staff",
    "people",
}
# The set-up page is a form for admins, worded separately (pwa/js/setup.js).
NOT_THE_STAFF_APP = ("setup.",)


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def families(texts: dict) -> dict[str, set[str]]:
    """{key: {forms}} for every key written as key.one, key.other, ..."""
    found: dict[str, set[str]] = {}
    for key in texts:
        stem, _, form = key.rpartition(".")
        if form in FORMS:
            found.setdefault(stem, set()).add(form)
    return found


def test_every_text_key_exists_in_every_language():
    keys = {lang: set(texts) for lang, texts in TEXTS.items()}

    missing = {lang: sorted(set().union(*keys.values()) - mine) for lang, mine in keys.items()}

    assert missing == {lang: [] for lang in LANGUAGES}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_sentence_has_the_same_placeholders_in_every_language(lang):
    differ = [
        key
        for key, text in TEXTS[lang].items()
        if placeholders(text) != placeholders(TEXTS["en"].get(key, text))
    ]
    assert differ == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_counts_use_the_plural_forms_of_the_language(lang):
    texts = TEXTS[lang]
    singular = [
        key
        for key, text in texts.items()
        if placeholders(text) & NUMBERS
        and key.rpartition(".")[2] not in FORMS
        and not key.startswith(NOT_THE_STAFF_APP)
    ]
    assert singular == []  # a number in a sentence of one form: "1 avunpyyntöä"
    incomplete = {
        stem: sorted(PLURAL_FORMS[lang] - forms)
        for stem, forms in families(texts).items()
        if not PLURAL_FORMS[lang] <= forms
    }
    assert incomplete == {}


def keys_the_app_names() -> set[str]:
    """Every literal key of the pages' data-text and of say()/sayCount() in pwa/js."""
    keys = set()
    for page in PWA_DIR.glob("*.html"):
        keys |= set(re.findall(r'data-text="([^"]+)"', page.read_text()))
    for source in (PWA_DIR / "js").rglob("*.js"):
        code = source.read_text()
        keys |= set(re.findall(r'\bsay\([^,]+,\s*"([\w.]+)"', code))
        keys |= set(re.findall(r'\bsayCount\([^,]+,[^,]+,\s*"([\w.]+)"', code))
    return keys


def test_every_key_the_app_names_exists():
    texts = TEXTS["en"]
    stems = families(texts)

    missing = sorted(key for key in keys_the_app_names() if key not in texts and key not in stems)

    assert missing == []
