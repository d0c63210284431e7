"""A site's set-up for its admins: read it (with the default wording beside it, so the set-up
page can show what a blank field means) and replace it (POST), through the same `import_site` command
as `flask site-import`, so the page and the file are checked by the same rules."""

from __future__ import annotations

from dataclasses import asdict

from flask import jsonify

from ..basics.names import KINDS, LANGUAGES
from ..channels import NoticeSettings
from ..channels.texts import default_texts
from ..commands.site_config import read_site
from ..rules.auth import ADMINS
from . import api, require_member, services


@api.get("/sites/<site>/setup")
def setup(site: str):
    with services().store.reading() as db:
        require_member(db, site, ADMINS, "the site's set-up")
        config = read_site(db, site)
    defaults = {lang: default_texts(lang) for lang in LANGUAGES}
    return jsonify(
        {
            "config": config,
            "kinds": list(KINDS),
            "defaults": {
                "notices": asdict(NoticeSettings()),
                "closed": {lang: defaults[lang]["closed"] for lang in LANGUAGES},
                "scripts": {lang: defaults[lang]["script"] for lang in LANGUAGES},
            },
        }
    )
