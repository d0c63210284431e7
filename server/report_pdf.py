"""The evidence report as PDF (fpdf2), for the file that goes to an authority."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

# Debian's fonts-dejavu-core: covers Finnish, Swedish and the rest of what the log may hold.
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def report_pdf(report: dict) -> bytes:
    pdf = FPDF(orientation="landscape", format="A4")
    family = _fonts(pdf)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    incident, site = report["incident"], report["site"]

    def heading(text: str) -> None:
        pdf.set_font(family, "B", 13)
        pdf.cell(0, 9, _text(family, text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 8)

    pdf.set_font(family, "B", 16)
    pdf.cell(
        0,
        10,
        _text(family, f"Evidence report: incident {incident['id']}, {site['name']}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font(family, "", 9)
    drill = " (DRILL)" if incident["drill"] else ""
    for line in (
        f"Kind: {incident['kind']}{drill}",
        f"Started (UTC): {incident['started_at']}",
        f"All-clear (UTC): {incident['ended_at'] or 'still active'}, "
        f"reason: {incident['end_reason'] or '-'}",
        f"Local times are in {site['timezone']}. Report made {report['generated_at']}.",
    ):
        pdf.cell(0, 5, _text(family, line), new_x="LMARGIN", new_y="NEXT")

    heading("Public channels")
    rows = [["Channel", "Closed from (UTC)", "Open again from (UTC)", "Closed seconds"]]
    for channel, span in report["closures"]["per_channel"].items():
        rows.append(
            [
                channel,
                span["closed_at"] or "not closed",
                span["reopened_at"] or "",
                "" if span["closed_seconds"] is None else str(span["closed_seconds"]),
            ]
        )
    _table(pdf, family, rows, (40, 70, 70, 40))
    total = report["closures"]["total_closed_seconds"]
    pdf.cell(
        0,
        6,
        _text(family, f"Service closed in total: {total if total is not None else '-'} s"),
        new_x="LMARGIN",
        new_y="NEXT",
    )

    heading("Roll call at the all-clear")
    roll = report["roll_call"]
    rows = [["Person", "Role", "Alarm received", "Acknowledged", "Safe"]]
    rows += [
        [
            p["name"],
            p["role"],
            p["delivered_at"] or "",
            p["acknowledged_at"] or "",
            p["safe_at"] or "",
        ]
        for p in roll["staff"]
    ]
    pdf.cell(
        0,
        6,
        _text(
            family,
            f"{roll['delivered']} of {roll['enrolled']} enrolled received "
            f"the alarm, {roll['acknowledged']} acknowledged, "
            f"{roll['safe']} safe.",
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    _table(pdf, family, rows, (60, 30, 55, 55, 55))

    heading("Timeline")
    rows = [["Seq", "Local time", "Event", "Who", "Hash"]]
    rows += [
        [
            str(e["seq"]),
            e["local_time"],
            e["type"],
            f"{e['actor'].get('name')} ({e['actor'].get('role')})",
            e["hash"],
        ]
        for e in report["events"]
    ]
    _table(pdf, family, rows, (12, 45, 40, 55, 120))

    heading("Verification of the log")
    verification = report["verification"]
    verdict = (
        f"Intact: {verification['count']} entries verified."
        if verification["ok"]
        else f"BROKEN: {verification['problem']}"
    )
    pdf.multi_cell(
        0, 5, _text(family, f"{verdict} Hash of the last entry: {verification['last_hash']}")
    )
    return bytes(pdf.output())


def _fonts(pdf: FPDF) -> str:
    if FONT.exists() and FONT_BOLD.exists():
        pdf.add_font("DejaVu", "", str(FONT))
        pdf.add_font("DejaVu", "B", str(FONT_BOLD))
        return "DejaVu"
    return "Helvetica"  # the PDF core font: Latin-1 only (see _text)


def _text(family: str, text: str) -> str:
    if family == "Helvetica":
        return text.encode("latin-1", "replace").decode("latin-1")
    return text


def _table(pdf: FPDF, family: str, rows: list[list[str]], widths: tuple) -> None:
    pdf.set_font(family, "", 7)
    with pdf.table(col_widths=widths, text_align="LEFT", first_row_as_headings=True) as table:
        for row in rows:
            cells = table.row()
            for value in row:
                cells.cell(_text(family, value))
    pdf.set_font(family, "", 8)
