"""The customer scripts for the staff app: every incident kind in every language of the site,
so that a phone can show any of them with the network gone."""

from __future__ import annotations

import json

from flask import jsonify

from ..channels.texts import LANGUAGES, default_texts, merged
from . import api, require_member, services


@api.get("/sites/<site>/scripts")
def scripts(site: str):
    with services().store.reading() as db:
        require_member(db, site)
        row = db.execute("SELECT languages, settings FROM sites WHERE id = ?", [site]).fetchone()
    languages = [lang for lang in json.loads(row[0]) if lang in LANGUAGES] or list(LANGUAGES)
    own = json.loads(row[1]).get("scripts", {})  # a site's own wording, per language
    return jsonify(
        {
            "languages": languages,
            "scripts": {
                lang: merged(default_texts(lang)["script"], own.get(lang, {})) for lang in languages
            },
            "language_names": {lang: default_texts(lang)["language_name"] for lang in languages},
        }
    )
