"""What each public channel told the public during an incident, in each language, from when to
when: replayed from the log's notice events, so that "we could not be reached" is answered by
the words callers heard and the seq of the entries that started and ended them.

A channel's wording changes at its own `notice.switched` (closed, restored, open), and while it
stays switched, at a `notice.issued` of the same state (a new estimated reopening time or new
wording). The site's name, languages and own wording are taken as the log had them then.

A mailbox (channel `email`) changes only at its own `notice.switched`, in the background and
often later than the others: its words are those of the notice version it took (the reply's
plain text, each language a paragraph), and they end when it took another, got its own reply
back, or someone else's reply was found in their place (`notice.reply_kept`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..basics.clock import iso, parse_iso
from ..basics.names import LANGUAGES
from ..channels import CHANNELS, NoticeSettings, PublicNotice
from ..channels.email import reply_words
from ..channels.texts import notice_texts, site_languages
from ..store.sql import marks

# The events that set what the public notice says, in the order the log holds them.
SITE_EVENTS = ("site.created", "site.imported", "notices.configured")
NOTICE_EVENTS = ("notice.issued", "notice.switched", "notice.reply_kept")


def channel_times(db, site: str, incident: dict, public_url: str | None = None) -> list[dict]:
    """[{channel, language, text, from, until, from_seq, until_seq}] for every wording this
    incident put on a channel (a mailbox's also with `mailbox` and `provider`); `until` and
    `until_seq` are None while it still shows. `public_url`: the status page's, as the
    mailboxes' replies link it."""
    replay = _Replay(site, incident, public_url)
    for entry in _entries(db, site, incident["start_seq"]):
        replay.apply(entry)
        if replay.is_done():
            break
    return [span.view() for span in sorted(replay.spans, key=_order)]


def _entries(db, site: str, start_seq: int):
    """The site's set-up events from the beginning, its notice events from the incident on."""
    site_types = marks(SITE_EVENTS)
    notice_types = marks(NOTICE_EVENTS)
    rows = db.execute(
        f"""SELECT seq, ts, type, payload FROM events WHERE site = ?
            AND (type IN ({site_types}) OR (seq >= ? AND type IN ({notice_types})))
            ORDER BY seq""",
        [site, *SITE_EVENTS, start_seq, *NOTICE_EVENTS],
    )
    for seq, ts, type_, payload in rows:
        yield {"seq": seq, "ts": ts, "type": type_, "payload": json.loads(payload)}


@dataclass
class _Span:
    channel: str
    language: str
    text: str
    start: dict  # the log entry that put these words on the channel
    end: dict | None = None  # the one that took them off
    mailbox: dict | None = None  # {mailbox, provider}: the email channel's

    def view(self) -> dict:
        return {
            "channel": self.channel,
            **(self.mailbox or {}),
            "language": self.language,
            "text": self.text,
            "from": iso(self.start["ts"]),
            "until": iso(self.end["ts"]) if self.end else None,
            "from_seq": self.start["seq"],
            "until_seq": self.end["seq"] if self.end else None,
        }


def _order(span: _Span) -> tuple:
    place = CHANNELS.index(span.channel) if span.channel in CHANNELS else len(CHANNELS)
    mailbox = (span.mailbox or {}).get("mailbox", "")
    return span.start["seq"], place, mailbox, LANGUAGES.index(span.language)


@dataclass
class _Replay:
    site: str
    incident: dict
    public_url: str | None = None
    setup: dict = field(default_factory=dict)  # name, timezone, languages, notices
    notice: PublicNotice | None = None
    versions: dict = field(default_factory=dict)  # version -> its PublicNotice
    switched: dict = field(default_factory=dict)  # channel -> its state ("open" when absent)
    # (channel, language) -> the open _Span; a mailbox's are (("email", address), language)
    showing: dict = field(default_factory=dict)
    spans: list = field(default_factory=list)  # this incident's wordings

    def apply(self, entry: dict) -> None:
        payload = entry["payload"]
        if entry["type"] == "site.created":
            self.setup = {**self.setup, **payload}
        elif entry["type"] == "site.imported":
            config = payload["config"]
            self.setup = {key: config[key] for key in ("name", "timezone", "languages")}
            self.setup["notices"] = config.get("notices")
            self.setup["scripts"] = config.get("scripts") or {}
        elif entry["type"] == "notices.configured":
            self.setup = {**self.setup, "notices": payload["settings"]}
        elif entry["type"] == "notice.issued":
            self.notice = self.versions[payload["version"]] = self._notice(entry)
            for channel, state in self.switched.items():
                if state == self.notice.state:
                    self._show(channel, entry)
        elif payload.get("channel") == "email":  # notice.switched or notice.reply_kept
            self._show_mailbox(payload, entry)
        else:  # notice.switched
            self.switched[payload["channel"]] = payload["state"]
            self._show(payload["channel"], entry)

    def is_done(self) -> bool:
        """Past this incident's notices, and none of its wordings is still showing."""
        return bool(self.spans) and all(span.end for span in self.spans)

    def _show(self, channel: str, entry: dict) -> None:
        """The channel shows the current notice from this entry on."""
        shows_notice = self.switched[channel] != "open" and self.notice is not None
        words = _channel_words(self.notice, channel) if shows_notice else {}
        self._put(channel, words, entry, self.notice)

    def _show_mailbox(self, payload: dict, entry: dict) -> None:
        """The mailbox took the notice of its `version`: our reply while closed, else its own
        (or, at `notice.reply_kept`, someone else's)."""
        notice = self.versions.get(payload["version"], self.notice)
        is_ours = payload["state"] == "closed" and payload.get("reply") == "ours"
        words = reply_words(notice) if is_ours and notice is not None else {}
        mailbox = {"mailbox": payload["mailbox"], "provider": payload["provider"]}
        self._put(("email", payload["mailbox"]), words, entry, notice, mailbox)

    def _put(self, place, words: dict, entry: dict, notice, mailbox: dict | None = None):
        """From this entry on, `place` (a channel, or ("email", a mailbox)) says `words`
        ({language: text}): a wording that changed ends here, a new one starts."""
        for language in [lang for (at, lang) in self.showing if at == place]:
            span = self.showing[(place, language)]
            if words.get(language) != span.text:
                span.end = entry
                del self.showing[(place, language)]
        is_ours = notice is not None and notice.incident_id == self.incident["id"]
        channel = place if isinstance(place, str) else place[0]
        for language, text in words.items():
            if (place, language) in self.showing:
                continue
            span = _Span(channel, language, text, entry, mailbox=mailbox)
            self.showing[(place, language)] = span
            if is_ours:
                self.spans.append(span)

    def _notice(self, entry: dict) -> PublicNotice:
        p = entry["payload"]
        return PublicNotice(
            site=self.site,
            site_name=self.setup.get("name", self.site),
            timezone=self.setup.get("timezone", "UTC"),
            languages=self.setup.get("languages") or [],
            state=p["state"],
            since=parse_iso(p["since"]) if p.get("since") else None,
            eta=parse_iso(p["eta"]) if p.get("eta") else None,
            kind=p["kind"],
            drill=bool(p["drill"]),
            incident_id=p["incident_id"],
            incident_started=None,  # the CAP identifiers need it; the words do not
            version=p["version"],
            updated=entry["ts"],
            settings=NoticeSettings.from_json(self.setup.get("notices")),
            end_reason=p.get("reason"),
            scripts=self.setup.get("scripts") or {},
            **({"public_url": self.public_url.rstrip("/")} if self.public_url else {}),
        )


def _channel_words(notice: PublicNotice, channel: str) -> dict:
    """{language: the words this channel shows of the notice}, as its renderer says them."""
    return {lang: _words(notice, channel, lang) for lang in site_languages(notice)}


def _words(notice: PublicNotice, channel: str, lang: str) -> str:
    texts = notice_texts(notice, lang)
    inside = texts["inside"]
    if channel == "queue_screen" and inside:  # said to the people inside (pwa/js/screen.js)
        return "\n".join([inside["headline"], *filter(None, [inside["drill"]]), *inside["lines"]])
    if channel != "phone_queue":  # status page, banner, queue screen, alert feed: read
        return "\n".join([texts["headline"], texts["text"]])
    # The phone queue's TwiML (notices/templates/phone.twiml): what a caller hears, in order.
    said = [texts["text"]]
    if notice.state == "closed":
        if notice.settings.phone_when_closed == "voicemail":
            said.append(texts["phone_leave_message"])
        said.append(texts["phone_goodbye"])
    return " ".join(said)
