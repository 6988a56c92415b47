"""The QR sheet as a PDF: A4, 12 codes a page (3 × 4), each with 户编号, 门牌号 and one line of
instruction in large type. Chinese text uses ReportLab's built-in CID font (STSong-Light), so
no font file ships with the app; PDF readers supply the glyphs."""

from __future__ import annotations

import io

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
COLUMNS, ROWS = 3, 4
PER_PAGE = COLUMNS * ROWS
INSTRUCTION = "微信扫一扫，做反诈小测试"
QR_SIZE = 42 * mm



def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def door_label(number: str | None) -> str:
    """门牌号 as printed: "12" → "12号"; "12号" and "东3户" stay as written."""
    number = (number or "").strip()
    return f"{number}号" if number.isdigit() else number


def render_pdf(title: str, items: list[dict]) -> bytes:
    """One PDF with every household of ``items`` (dicts with code, house_number, url)."""
    font = _font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(f"{title} 入户二维码")
    width, height = A4
    cell_w, cell_h = (width - 20 * mm) / COLUMNS, (height - 24 * mm) / ROWS
    for start in range(0, max(len(items), 1), PER_PAGE):
        pdf.setFont(font, 10)
        pdf.drawString(10 * mm, height - 10 * mm, f"{title} · 入户反诈答题二维码")
        for index, item in enumerate(items[start:start + PER_PAGE]):
            col, row = index % COLUMNS, index // COLUMNS
            x = 10 * mm + col * cell_w
            y = height - 16 * mm - (row + 1) * cell_h
            widget = QrCodeWidget(item["url"], barLevel="M")
            x0, y0, x1, y1 = widget.getBounds()
            drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x1 - x0), 0, 0, QR_SIZE / (y1 - y0), 0, 0])
            drawing.add(widget)
            renderPDF.draw(drawing, pdf, x + (cell_w - QR_SIZE) / 2, y + 18 * mm)
            pdf.setFont(font, 13)
            label = f"{item['code']}  {door_label(item['house_number'])}".strip()
            pdf.drawCentredString(x + cell_w / 2, y + 12 * mm, label)
            pdf.setFont(font, 11)
            pdf.drawCentredString(x + cell_w / 2, y + 6 * mm, INSTRUCTION)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
