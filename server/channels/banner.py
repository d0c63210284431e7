"""The embeddable website banner (/embed/<site>/banner.js): one script tag on any page."""

from __future__ import annotations

import json

from . import PublicNotice
from .render import render
from .status import status_document


def banner_js(notice: PublicNotice) -> bytes:
    """The script carries the notice it was written with, so it shows at once, then polls
    status.json for changes."""
    document = json.dumps(status_document(notice), ensure_ascii=False, sort_keys=True)
    return render("banner.js", site=notice.site, document_json=document)
