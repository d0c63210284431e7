"""The evidence report as PDF (fpdf2), for the file that goes to an authority: it prints the
same document as report.html (server/reports/document.py), in the same words."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .document import report_document

if TYPE_CHECKING:
    from fpdf import FPDF

# Debian's fonts-dejavu-core: covers Finnish, Swedish and the rest of what the log may hold.
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def report_pdf(report: dict, lang: str | None = None) -> bytes:
    """The report as a landscape A4 PDF, in `lang` or the site's first language."""
    # fpdf2 and its font tools take a tenth of a second to import: with the first report, not
    # at every start, which a restart's thousand phones wait for.
    from fpdf import FPDF

    document = report_document(report, lang)
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(document["title"])
    pdf.set_lang(document["lang"])
    writer = _Writer(pdf, _fonts(pdf))
    pdf.add_page()
    writer.title(document["title"])
    writer.paragraph(document["intro"])
    writer.table(document["facts"], (1, 3), headings=False)
    for section in document["sections"]:
        writer.heading(section["title"])
        for paragraph in section["paragraphs"]:
            writer.paragraph(paragraph)
        if section["table"]:
            table = section["table"]
            writer.table([table["columns"], *table["rows"]], table["widths"])
    return bytes(pdf.output())


class _Writer:
    """Title, headings, paragraphs and tables in one font family."""

    def __init__(self, pdf: FPDF, family: str):
        self.pdf, self.family = pdf, family

    def title(self, text: str) -> None:
        self.pdf.set_font(self.family, "B", 16)
        self.pdf.multi_cell(0, 8, self._text(text), new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str) -> None:
        self.pdf.ln(2)
        self.pdf.set_font(self.family, "B", 13)
        self.pdf.multi_cell(0, 8, self._text(text), new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, text: str) -> None:
        self.pdf.set_font(self.family, "", 9)
        self.pdf.multi_cell(0, 5, self._text(text), new_x="LMARGIN", new_y="NEXT")

    def table(self, rows: list, widths: tuple, headings: bool = True) -> None:
        self.pdf.set_font(self.family, "", 7)
        with self.pdf.table(
            col_widths=widths, text_align="LEFT", first_row_as_headings=headings
        ) as table:
            for row in rows:
                cells = table.row()
                for value in row:
                    cells.cell(self._text(str(value)))
        self.pdf.ln(2)

    def _text(self, text: str) -> str:
        if self.family == "Helvetica":  # the PDF core font: Latin-1 only
            return text.encode("latin-1", "replace").decode("latin-1")
        return text


def _fonts(pdf: FPDF) -> str:
    if FONT.exists() and FONT_BOLD.exists():
        pdf.add_font("DejaVu", "", str(FONT))
        pdf.add_font("DejaVu", "B", str(FONT_BOLD))
        return "DejaVu"
    return "Helvetica"
