"""QR codes of enrollment links, so a phone can enroll by scanning a printed sheet or a screen."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str, title: str) -> str:
    """An SVG QR code of `url` (medium error correction survives a crumpled printout)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", scale=6, border=2, title=title, xmldecl=False, svgns=True
    )
    return out.getvalue().decode("utf-8")


def qr_terminal(url: str) -> str:
    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True)
    return out.getvalue()
