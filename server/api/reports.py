"""Incident history and the evidence report (JSON, CSV, HTML, PDF, and the bundle that carries
its own proof), for duty managers and admins."""

from __future__ import annotations

from flask import Response, jsonify, request

from ..basics.errors import Invalid
from ..basics.names import LANGUAGES
from ..reports import bundle
from ..reports.document import report_page
from ..reports.pdf import report_pdf
from ..reports.report import incident_report, report_csv, roll_call_csv
from ..rules.auth import MANAGERS
from ..store.state import incident_view
from . import api, require_member, services


@api.get("/sites/<site>/incidents")
def incident_history(site: str):
    """Past and current incidents, newest first; drills are marked."""
    with services().store.reading() as db:
        require_member(db, site, MANAGERS, "incident reports")
        rows = db.query("SELECT * FROM incidents WHERE site = ? ORDER BY id DESC", [site])
        return jsonify({"incidents": [incident_view(r) for r in rows]})


@api.get("/sites/<site>/incidents/<int:incident_id>/report.json")
def report_json(site: str, incident_id: int):
    return jsonify(_report(site, incident_id))


@api.get("/sites/<site>/incidents/<int:incident_id>/report.csv")
def report_as_csv(site: str, incident_id: int):
    report = report_csv(_report(site, incident_id))
    return _file(report, "text/csv", f"exitnow-{site}-incident-{incident_id}.csv", "attachment")


@api.get("/sites/<site>/incidents/<int:incident_id>/roll-call.csv")
def roll_call_as_csv(site: str, incident_id: int):
    """Everyone on site at the alarm, one row each, for a spreadsheet."""
    sheet = roll_call_csv(_report(site, incident_id))
    name = f"exitnow-{site}-incident-{incident_id}-roll-call.csv"
    return _file(sheet, "text/csv", name, "attachment")


@api.get("/sites/<site>/incidents/<int:incident_id>/report.pdf")
def report_as_pdf(site: str, incident_id: int):
    report = _pdf(_report(site, incident_id), _language())
    return _file(report, "application/pdf", f"exitnow-{site}-incident-{incident_id}.pdf", "inline")


@api.get("/sites/<site>/incidents/<int:incident_id>/report.html")
def report_html(site: str, incident_id: int):
    return report_page(_report(site, incident_id), _language())


@api.get("/sites/<site>/incidents/<int:incident_id>/report.bundle")
def report_bundle(site: str, incident_id: int):
    """The report with its proof, a zip that verify_report.py checks (server/reports/bundle.py). When
    no checkpoint covers the report's last entry yet, one is signed now."""
    report, lang = _report(site, incident_id), _language()
    first, last = bundle.seq_range(report)
    checkpoints = services().checkpoints
    checkpoints.covering(site, last)
    with services().store.reading() as db:
        proof = bundle.read_proof(db, site, first, last, checkpoints.key)
    report = {**report, "proof": proof.named()}  # printed for a reader to match
    page, pdf = report_page(report, lang, downloads=False), _pdf(report, lang)
    content = bundle.bundle_zip(report, page, pdf, proof)
    name = f"exitnow-{site}-incident-{incident_id}-evidence.zip"
    return _file(content, "application/zip", name, "attachment")


def _report(site: str, incident_id: int) -> dict:
    with services().store.reading() as db:
        require_member(db, site, MANAGERS, "incident reports")
        return incident_report(db, site, incident_id, public_url=services().settings.base_url)


def _pdf(report: dict, lang: str | None) -> bytes:
    """The PDF, laid out in a native thread: with a thousand people on the roll fpdf2 takes
    half a minute, which in the event loop would stop every site's sockets and alarms."""
    return services().run_native(report_pdf, report, lang)


def _language() -> str | None:
    """?lang= (fi, sv, en) for the HTML and PDF; without it, the site's first language."""
    asked = request.args.get("lang")
    if asked is not None and asked not in LANGUAGES:
        raise Invalid(f"lang must be one of: {', '.join(LANGUAGES)}.")
    return asked


def _file(content, mimetype: str, name: str, disposition: str) -> Response:
    headers = {"Content-Disposition": f'{disposition}; filename="{name}"'}
    return Response(content, mimetype=mimetype, headers=headers)
