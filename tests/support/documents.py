"""Real sample files for the ingestion tests, made at test time."""

from __future__ import annotations

from pathlib import Path


def text_pdf(path: Path, lines: list[str]) -> Path:
    """A PDF with a real text layer (fpdf2)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in lines:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def encrypted_pdf(path: Path, lines: list[str], password: str = "s3cret") -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = text_pdf(path.with_suffix(".plain.pdf"), lines)
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password)
    with path.open("wb") as handle:
        writer.write(handle)
    plain.unlink()
    return path


def scanned_image(path: Path, lines: list[str]) -> Path:
    """An image of typed text, saved as PNG or as an image-only PDF (Pillow)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=40)
    image = Image.new("L", (1400, 100 + 80 * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 40 + 80 * i), line, fill=0, font=font)
    image.save(path)
    return path


def page_scan(lines: list[str]):
    """A scanned A4 page (a Pillow image, 150 dpi) with typed lines on it."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=40)
    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((80, 200 + 70 * i), line, fill=0, font=font)
    return image


def paged_pdf(path: Path, pages: list[dict[str, list[str]]]) -> Path:
    """A PDF page by page (fpdf2): `text` lines as a real text layer, `scan`
    lines as a full-page scanned image under them (a fax banner or a
    watermark over a scan is both), `logo` a small image beside typed text."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    for page in pages:
        pdf.add_page()
        if page.get("scan"):
            pdf.image(page_scan(page["scan"]), x=0, y=0, w=210, h=297)
        if page.get("logo"):
            pdf.image(page_scan(page["logo"]).resize((310, 438)), x=10, y=10, w=30)
        pdf.set_font("Helvetica", size=10)
        pdf.set_xy(10, 5 if page.get("scan") else 60)
        for line in page.get("text", []):
            pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def docx_file(path: Path, paragraphs: list[str], table: list[list[str]]) -> Path:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    grid = document.add_table(rows=len(table), cols=len(table[0]))
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    document.save(str(path))
    return path
