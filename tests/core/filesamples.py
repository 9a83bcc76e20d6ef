"""Small files of each kind, as their first bytes make them (tests of uploads)."""

import io
import zipfile

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
HTML = b"<!doctype html><script>alert(document.cookie)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


def office(kind: str) -> bytes:
    """A minimal Office Open XML package (docx, xlsx or pptx) or an OFD file."""
    folder = {"docx": "word", "xlsx": "xl", "pptx": "ppt"}.get(kind)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        if kind == "ofd":
            z.writestr("OFD.xml", "<ofd:OFD/>")
        else:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr(f"{folder}/document.xml", "<document/>")
    return buf.getvalue()


def plain_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.exe", EXE)
    return buf.getvalue()
