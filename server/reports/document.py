"""The evidence report worded for a reader: a statement of facts in one of the site's languages,
in the site's local time with UTC beside it, plain words for every code (texts/<lang>.json,
"report"). report.html and report.pdf both print this one structure, so they say the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from flask import render_template

from ..basics.clock import parse_iso, time_zone
from ..basics.names import LANGUAGES
from ..channels.texts import default_texts
from ..store.events import ERASED

# Payload fields a timeline row shows beside its sentence, in this order.
DETAIL_FIELDS = ("location", "note", "message", "eta")


def report_language(report: dict, asked: str | None) -> str:
    """The language asked for if we have it, else the site's first language."""
    if asked in LANGUAGES:
        return asked
    return next((lang for lang in report["site"]["languages"] if lang in LANGUAGES), "en")


def report_page(report: dict, lang: str | None = None, downloads: bool = True) -> str:
    """The report as a page that prints well (templates/report.html), in `lang` or the site's
    first language, linking its PDF, CSV and evidence bundle (not inside the bundle, where
    those are not beside it); inside a Flask app."""
    document = report_document(report, lang)
    if not downloads:
        document["downloads"] = None
    return render_template("report.html", document=document)


def report_document(report: dict, lang: str | None = None) -> dict:
    """{lang, title, intro, facts: [[label, value]], sections: [{title, paragraphs, table}]};
    a table is {columns, rows, widths} (widths: relative, for the PDF's columns)."""
    lang = report_language(report, lang)
    words = Words(report, lang)
    sections = [
        _channels(report, words),
        _roll_call(report, words),
        _muster(report, words),
        _zones(report, words),
        _help_requests(report, words),
        _backup_requests(report, words),
        _timeline(report, words),
        _verification(report, words),
    ]
    site, incident = report["site"], report["incident"]
    return _erased_said(
        {
            "lang": lang,
            "title": words.texts["title"].format(incident=incident["id"], site=site["name"]),
            "intro": words.texts["intro"].format(timezone=site["timezone"]),
            "facts": _facts(report, words),
            "downloads": words.texts["downloads"],
            "sections": [section for section in sections if section],
        },
        words.texts["erased"],
    )


def _erased_said(document, word: str):
    """Every erased name or note (events.ERASED, the same marker in every language's data) as
    the report's language says it."""
    if isinstance(document, str):
        return document.replace(ERASED, word)
    if isinstance(document, list):
        return [_erased_said(item, word) for item in document]
    if isinstance(document, dict):
        return {key: _erased_said(value, word) for key, value in document.items()}
    return document


@dataclass
class Words:
    """The report's texts in one language, and how times, people and codes read in it."""

    report: dict
    lang: str

    @cached_property
    def texts(self) -> dict:
        return default_texts(self.lang)["report"]

    @cached_property
    def zone(self):
        return time_zone(self.report["site"]["timezone"])

    @cached_property
    def names(self) -> dict:
        """staff_id -> name, from the roll call and everyone who acted in the incident."""
        names = {p["staff_id"]: p["name"] for p in self.report["roll_call"]["staff"]}
        for event in self.report["events"]:
            names.setdefault(event["actor"].get("staff_id"), event.get("actor_name"))
        return names

    @cached_property
    def visitors(self) -> dict:
        """visitor_id -> name, from the roll call and the visitors signed in during it."""
        names = {v["visitor_id"]: v["name"] for v in self.report["roll_call"].get("visitors", [])}
        for event in self.report["events"]:
            if event["type"] == "visitor.signed_in":
                person = _read(event).get("person") or {}
                names.setdefault(event["payload"]["visitor_id"], person.get("name"))
        return names

    @cached_property
    def points(self) -> dict:
        """assembly point id -> its name."""
        return {p["id"]: p["name"] for p in self.report.get("assembly_points", [])}

    def point(self, point_id: str | None) -> str:
        return self.points.get(point_id, point_id or "")

    def named(self, payload: dict) -> str:
        """The person an event is about: staff by their name, a visitor by theirs (or the word
        "visitor" once their personal fields are erased)."""
        if payload.get("name"):
            return payload["name"]
        if payload.get("staff_id") is not None:
            return self.person(payload["staff_id"])
        if payload.get("visitor_id") is not None:
            name = self.visitors.get(payload["visitor_id"])
            return name or self.texts["sections"]["muster"]["visitor"]
        return ""

    def plural(self, forms: dict, n: int) -> str:
        """fi, sv and en have one form for 1 and one for every other number."""
        return forms["one" if n == 1 else "other"].format(n=n)

    def time(self, moment: str | None, empty: str = "") -> str:
        """An ISO 8601 time as the site's clock showed it, with UTC beside it."""
        if moment is None:
            return empty
        ms = parse_iso(moment)
        local = self._clock(datetime.fromtimestamp(ms / 1000, tz=self.zone))
        utc = datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        return self.texts["time_with_utc"].format(local=local, utc=utc)

    def _clock(self, moment: datetime) -> str:
        return self.texts["time"].format(
            **{"Y": moment.year, "m": moment.month, "d": moment.day, "H": moment.hour},
            **{"mm": f"{moment.month:02}", "dd": f"{moment.day:02}", "HH": f"{moment.hour:02}"},
            **{"MM": f"{moment.minute:02}", "SS": f"{moment.second:02}"},
        )

    def duration(self, seconds: float | None) -> str:
        """12345.6 -> "3 h 25 min 46 s" (each unit as the language writes it)."""
        hours, rest = divmod(round(seconds or 0), 3600)
        minutes, secs = divmod(rest, 60)
        units = self.texts["duration"]
        parts = [("hours", hours)] if hours else []
        parts += [("minutes", minutes)] if hours or minutes else []
        return " ".join(units[unit].format(n=n) for unit, n in [*parts, ("seconds", secs)])

    def who(self, actor: dict) -> str:
        if actor.get("staff_id") is None:  # the command line (an admin), or the alarm panel
            role = actor.get("role")
            return self.texts["command_line"] if role == "admin" else self.word("roles", role)
        name = self.person(actor["staff_id"])
        return self.texts["who"].format(name=name, role=self.word("roles", actor["role"]))

    def person(self, staff_id: int | None) -> str:
        return self.names.get(staff_id, "") if staff_id is not None else ""

    def word(self, group: str, code: str | None) -> str:
        """The plain word for a code (kinds, reasons, roles, channels...); the code if none."""
        return self.texts[group].get(code, code or "")


def _table(words: Words, section: str, rows: list, widths: tuple) -> dict:
    return {"columns": words.texts["sections"][section]["columns"], "rows": rows, "widths": widths}


def _section(words: Words, name: str, paragraphs: list, table: dict | None) -> dict:
    return {
        "title": words.texts["sections"][name]["title"],
        "paragraphs": paragraphs,
        "table": table,
    }


def _facts(report: dict, words: Words) -> list[list[str]]:
    incident, labels, texts = report["incident"], words.texts["facts"], words.texts
    kind = words.word("kinds", incident["kind"])
    kind = kind[:1].upper() + kind[1:]  # a value of its own, not inside a sentence
    ended = next((e for e in report["events"] if e["type"] == "incident.ended"), None)
    facts = [
        ("site", report["site"]["name"]),
        ("kind", texts["kind_drill"].format(kind=kind) if incident["drill"] else kind),
        ("started", words.time(incident["started_at"])),
        ("started_by", words.who(report["events"][0]["actor"])),
        ("message", incident["message"]),
        ("eta", words.time(incident["eta"])),
        ("ended", words.time(incident["ended_at"], texts["still_active"])),
        ("ended_by", ended and words.who(ended["actor"])),
        ("reason", incident["end_reason"] and words.word("reasons", incident["end_reason"])),
        ("note", ended and ended["payload"].get("note")),
        ("closed_total", _closed_total(report, words)),
        ("timezone", report["site"]["timezone"]),
        ("generated", words.time(report["generated_at"])),
    ]
    return [[labels[key], value] for key, value in facts if value]


def _closed_total(report: dict, words: Words) -> str:
    closures = report["closures"]
    if not any(span["closed_at"] for span in closures["per_channel"].values()):
        return words.texts["not_closed"]
    if closures["total_closed_seconds"] is None:
        return words.texts["not_reopened"]
    return words.duration(closures["total_closed_seconds"])


def _channels(report: dict, words: Words) -> dict:
    """One row per wording: the channels that showed the same words over the same time
    (the status page, banner, screens and alert feed show the same) share it."""
    texts = words.texts["sections"]["channels"]
    if not report["channels"]:
        return _section(words, "channels", [texts["none"]], None)
    channels: dict[tuple, list] = {}
    for said in report["channels"]:
        key = (said["from"], said["language"], said["text"], said["until"])
        channels.setdefault(key, []).append(_channel_name(said, words))
    rows = [
        [
            ", ".join(names),
            words.word("languages", language),
            text,
            words.time(start),
            words.time(until, texts["still"]),
        ]
        for (start, language, text, until), names in sorted(channels.items(), key=_by_language)
    ]
    table = _table(words, "channels", rows, (4, 2, 9, 3, 3))
    # Each quoted wording in its own language (lang=), so that a screen reader says it right.
    ordered = sorted(channels, key=lambda key: _by_language((key, None)))
    table["cell_lang"] = {"column": 2, "rows": [language for _, language, _, _ in ordered]}
    return _section(words, "channels", [texts["intro"]], table)


def _channel_name(said: dict, words: Words) -> str:
    """The channel's plain name; a mailbox by its address and provider."""
    if said.get("mailbox") is None:
        return words.word("channels", said["channel"])
    provider = words.word("providers", said.get("provider"))
    return words.texts["mailbox_channel"].format(mailbox=said["mailbox"], provider=provider)


def _by_language(item: tuple) -> tuple:
    (start, language, _, _), _ = item
    return start, LANGUAGES.index(language)


def _roll_call(report: dict, words: Words) -> dict:
    roll, labels = report["roll_call"], words.texts["sections"]["roll_call"]["counts"]
    counts = [words.texts["detail"].format(label=labels[key], value=roll[key]) for key in labels]
    rows = [
        [
            p["name"],
            words.word("roles", p["role"]),
            words.texts["yes"] if p["enrolled"] else words.texts["no"],
            words.time(p["delivered_at"]),
            words.time(p["acknowledged_at"]),
            words.time(p["safe_at"]),
        ]
        for p in roll["staff"]
    ]
    return _section(
        words, "roll_call", counts, _table(words, "roll_call", rows, (4, 3, 2, 4, 4, 4))
    )


def _muster(report: dict, words: Words) -> dict | None:
    """Everyone on site at the alarm, staff and visitors: how, where, when and by whom each
    was accounted for, who never was, and when the last one was."""
    roll, texts = report["roll_call"], words.texts["sections"]["muster"]
    if "visitors" not in roll:
        return None  # a report made before the roll call counted everyone on site
    counts = [
        words.texts["detail"].format(label=label, value=roll[key])
        for key, label in texts["counts"].items()
    ]
    accounting = report.get("accounting") or {}
    if accounting.get("last_accounted_at"):
        counts.append(texts["last"].format(time=words.time(accounting["last_accounted_at"])))
    else:
        counts.append(texts["nobody"])
    if accounting.get("everyone_accounted"):
        duration = words.duration(accounting["seconds_to_everyone"])
        counts.append(texts["everyone"].format(duration=duration))
    elif roll["unaccounted"]:
        counts.append(words.plural(texts["missing"], roll["unaccounted"]))
    rows = [
        [person["name"] or texts["visitor"], _on_site_as(person, words), *_how(person, words)]
        for person in [*roll["staff"], *roll["visitors"]]
    ]
    return _section(words, "muster", counts, _table(words, "muster", rows, (4, 4, 4, 4, 4, 3, 4)))


def _on_site_as(person: dict, words: Words) -> str:
    if person["person"] == "staff":
        return words.word("roles", person["role"])
    texts = words.texts["sections"]["muster"]
    key = "visitor_company" if person.get("company") else "visitor"
    key += "_self" if person.get("self_signed") else ""
    return texts[key].format(company=person.get("company"))


def _how(person: dict, words: Words) -> list[str]:
    """How, at which assembly point, when and by whom; and where someone reported them."""
    texts, accounted = words.texts["sections"]["muster"], person["accounted"]
    inside = person.get("reported_inside")
    reported = ""
    if inside:
        reported = texts["reported_inside"].format(
            location=inside["location"],
            by=words.person(inside["by"]),
            time=words.time(inside["at"]),
        )
    if accounted is None:
        return [texts["never"], "", "", "", reported]
    by = (accounted.get("by") or {}).get("name") or ""
    return [
        words.word("accounted_how", accounted["how"]),
        words.point(accounted["assembly_point"]),
        words.time(accounted["at"]),
        by,
        reported,
    ]


def _zones(report: dict, words: Words) -> dict:
    rows = [
        [
            zone["name"],
            words.word("sweeps", zone["sweep"]),
            zone["by_name"] or "",
            words.time(zone["updated_at"]),
            zone["note"] or "",
        ]
        for zone in report["zones"]
    ]
    return _section(words, "zones", [], _table(words, "zones", rows, (4, 3, 3, 4, 5)))


def _help_requests(report: dict, words: Words) -> dict:
    if not report["help_requests"]:
        return _section(words, "help", [words.texts["sections"]["help"]["none"]], None)
    rows = _request_rows(
        report["help_requests"], words, "resolved_at", lambda h: words.person(h["resolved_by"])
    )
    return _section(words, "help", [], _table(words, "help", rows, (4, 4, 3, 4, 4, 3)))


def _backup_requests(report: dict, words: Words) -> dict | None:
    if not report["backup_requests"]:
        return None  # the section only when staff called for backup during the incident
    rows = _request_rows(
        report["backup_requests"],
        words,
        "ended_at",
        lambda b: words.word("backup_outcomes", b["outcome"] or "open"),
    )
    return _section(words, "backup", [], _table(words, "backup", rows, (4, 4, 3, 4, 4, 3)))


def _request_rows(requests: list, words: Words, ended: str, how) -> list:
    """Where, the note, who raised it and when, when it ended, and by whom or how."""
    return [
        [
            r["location"],
            r["note"] or "",
            words.person(r["raised_by"]),
            words.time(r["raised_at"]),
            words.time(r[ended]),
            how(r),
        ]
        for r in requests
    ]


def _timeline(report: dict, words: Words) -> dict:
    rows = [
        [
            words.time(e["ts"]),
            _sentence(e, words),
            words.who(e["actor"]),
            "\n".join(_details(e, words)),
            str(e["seq"]),
            e["hash"],
        ]
        for e in report["events"]
    ]
    return _section(words, "timeline", [], _table(words, "timeline", rows, (5, 7, 4, 5, 1, 6)))


def _sentence(event: dict, words: Words) -> str:
    """The event as a sentence: its template in texts' "events", filled from its payload."""
    payload, templates = _read(event), words.texts["events"]
    template = templates.get(f"{event['type']}.{_variant(event)}") or templates.get(event["type"])
    if template is None:  # a type newer than its words: still in the report, by its name
        return words.texts["unknown_event"].format(type=event["type"])
    zones = {zone["id"]: zone["name"] for zone in words.report["zones"]}
    zone = payload.get("zone") or payload.get("id") or ""
    person = words.named(payload)
    return template.format(
        person=person or words.person(event["actor"].get("staff_id")),
        actor=words.person(event["actor"].get("staff_id")) or event.get("actor_name") or "",
        point=words.point(payload.get("assembly_point")),
        zone=zones.get(zone, zone),
        kind=words.word("kinds", payload.get("kind")),
        reason=words.word("reasons", payload.get("reason")),
        channel=words.word("channels", payload.get("channel")),
        state=words.word("notice_states", payload.get("state")),
        language=words.word("languages", payload.get("language")),
        version=payload.get("version", ""),
        mailbox=payload.get("mailbox", ""),
        seconds=round(abs(payload.get("by_ms", 0)) / 1000),
    )


def _variant(event: dict) -> str | None:
    """Which of an event type's sentences fits it: a mailbox's switch, a drill's start, how
    someone was accounted for or signed out, a visitor who signed in by themself, an SMS that
    failed, the server's clock stepping back."""
    payload = event["payload"]
    if payload.get("channel") == "email":  # a mailbox, by its address
        return "email"
    if event["type"] == "incident.started":
        return "drill" if payload.get("drill") else None
    if event["type"] == "visitor.signed_in":
        return "self" if payload.get("self_signed") else None
    if event["type"] == "visitor.texted":
        return payload.get("outcome")
    if event["type"] == "clock.stepped":
        return "back" if payload["by_ms"] < 0 else None
    return payload.get("how")


def _read(event: dict) -> dict:
    """The entry's details with its personal fields as read (server/reports/report.py)."""
    return {**event["payload"], **event.get("personal", {})}


def _details(event: dict, words: Words) -> list[str]:
    labels, payload = words.texts["details"], _read(event)
    return [
        words.texts["detail"].format(
            label=labels[key], value=words.time(payload[key]) if key == "eta" else payload[key]
        )
        for key in DETAIL_FIELDS
        if payload.get(key)
    ]


def _verification(report: dict, words: Words) -> dict:
    texts, verification = words.texts["sections"]["verification"], report["verification"]
    if verification["ok"]:
        verdict = texts["ok"].format(count=verification["count"])
    else:
        verdict = texts["broken"].format(problem=verification["problem"])
    command = f"flask --app server verify-log --site {report['site']['id']}"
    paragraphs = [
        verdict,
        texts["last_hash"].format(hash=verification["last_hash"]),
        texts["how"].format(command=command),
    ]
    proof = report.get("proof") or {}
    if proof.get("fingerprint"):
        paragraphs.append(texts["fingerprint"].format(fingerprint=proof["fingerprint"]))
    if proof.get("bundle_sha256"):
        paragraphs.append(texts["bundle"].format(sha256=proof["bundle_sha256"]))
    return _section(words, "verification", paragraphs, None)
