"""The phone queue's message: TwiML for Twilio, SSML and plain text for other platforms."""

from __future__ import annotations

from . import PublicNotice
from .render import render
from .texts import notice_texts


def phone_text(notice: PublicNotice, lang: str) -> bytes:
    return (notice_texts(notice, lang)["text"] + "\n").encode("utf-8")


def phone_ssml(notice: PublicNotice, lang: str) -> bytes:
    return render("phone.ssml", texts=notice_texts(notice, lang))


def phone_twiml(notice: PublicNotice, lang: str) -> bytes:
    """Closed: say the notice, then hang up or record a message. Restored and open: (say that
    we are open again and) hand the call back to the normal flow, the site's redirect."""
    settings = notice.settings
    return render(
        "phone.twiml",
        notice=notice,
        texts=notice_texts(notice, lang),
        voice=settings.voices.get(lang, ""),
        redirect=settings.phone_open_redirect,
        voicemail=settings.phone_when_closed == "voicemail",
    )
