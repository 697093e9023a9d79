"""Plain A4 documents (a title, headings, label/value rows, tables) with fpdf2's core fonts.

The core fonts cover Latin-1, which holds every Swedish letter; other characters are replaced
by a near equivalent or ``?`` rather than failing. A fixed creation date makes the same content
give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos

_REPLACEMENTS = {"–": "-", "—": "-", "…": "...", "’": "'", "“": '"', "”": '"', "≥": ">="}


def latin1(text: str) -> str:
    for old, new in _REPLACEMENTS.items():
        text = text.replace(old, new)
    return text.encode("latin-1", errors="replace").decode("latin-1")


class Document:
    def __init__(self, title: str, created: datetime, *, landscape: bool = False) -> None:
        self.pdf = FPDF(orientation="L" if landscape else "P", format="A4")
        self.pdf.set_creation_date(created)
        # Small documents: uncompressed content keeps them searchable by any archive viewer's
        # text index (and by the tests) at the cost of a few kilobytes.
        self.pdf.set_compression(False)
        self.pdf.set_title(latin1(title))
        self.pdf.set_creator("Telederm")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_page()
        self.pdf.set_font("Helvetica", "B", 16)
        self.pdf.multi_cell(0, 9, latin1(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(2)

    def heading(self, text: str) -> None:
        self.pdf.ln(3)
        self.pdf.set_font("Helvetica", "B", 12)
        self.pdf.multi_cell(0, 7, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(self, text: str) -> None:
        self.pdf.set_font("Helvetica", "", 10)
        self.pdf.multi_cell(0, 5, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(1)

    def rows(self, pairs: Iterable[tuple[str, str]]) -> None:
        for label, value in pairs:
            if not value:
                continue
            self.pdf.set_font("Helvetica", "B", 10)
            self.pdf.multi_cell(0, 5, latin1(label), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.pdf.set_font("Helvetica", "", 10)
            self.pdf.multi_cell(0, 5, latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.pdf.ln(1)

    def table(self, header: Sequence[str], body: Iterable[Sequence[str]]) -> None:
        self.pdf.set_font("Helvetica", "", 8)
        with self.pdf.table(
            headings_style=FontFace(emphasis="BOLD", fill_color=(235, 239, 240)),
            line_height=4.5,
            text_align="LEFT",
            first_row_as_headings=True,
        ) as table:
            row = table.row()
            for cell in header:
                row.cell(latin1(cell))
            for values in body:
                row = table.row()
                for cell in values:
                    row.cell(latin1(cell))

    def output(self) -> bytes:
        return bytes(self.pdf.output())
