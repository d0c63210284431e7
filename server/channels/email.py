"""What a customer who writes reads: the mailbox's automatic reply while the site is closed.

The same notice the other channels give, in every language of the site in the site's order
(each language's words one after another, as the phone queue says them), with the estimated
reopening time when there is one and the status page's address. After the all-clear there
is no reply of ours: the mailbox gets its own earlier one back (server/channels/mailboxes/).
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from . import PublicNotice
from .render import render
from .texts import notice_texts, site_languages


@dataclass(frozen=True)
class AutoReply:
    subject: str  # each language's headline, " / " between them
    text: str  # plain text: each language a paragraph
    html: str  # the same as HTML, each language in its own lang=""


def auto_reply(notice: PublicNotice) -> AutoReply:
    parts = _parts(notice)
    return AutoReply(
        subject=" / ".join(dict.fromkeys(part["headline"] for part in parts)),
        text="\n\n".join(_plain(part) for part in parts) + "\n",
        html=render("email.html", parts=parts).decode("utf-8"),
    )


def reply_words(notice: PublicNotice) -> dict[str, str]:
    """{language: that language's paragraph of the reply's plain text}, as the evidence
    report quotes what a writer read."""
    return {part["lang"]: _plain(part) for part in _parts(notice)}


def _parts(notice: PublicNotice) -> list[dict]:
    """Each language's words, in the site's order."""
    url = f"{notice.public_url}/status/{notice.site}"
    parts = []
    for lang in site_languages(notice):
        texts = notice_texts(notice, lang)
        parts.append(
            {
                "lang": lang,
                "headline": texts["headline"],
                "lines": [*texts["lines"], texts["email_no_reply_needed"]],
                "read_more": texts["email_read_more"].format(url=url),
                # The same sentence with the address as a link; the words stay escaped.
                "read_more_html": escape(texts["email_read_more"]).format(
                    url=Markup('<a href="{0}">{0}</a>').format(url)
                ),
            }
        )
    return parts


def _plain(part: dict) -> str:
    return "\n".join([part["headline"], "", *part["lines"], part["read_more"]])
