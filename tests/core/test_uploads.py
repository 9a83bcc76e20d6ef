"""Upload types by content, not name (core/uploads.py, pure)."""

import io

import pytest

from yingji.core import uploads

from .filesamples import EXE, HTML, JPEG, MP4, PDF, PNG, SVG, office, plain_zip


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (JPEG, "jpeg"),
        (PNG, "png"),
        (b"GIF89a" + b"\x00" * 20, "gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "heic"),
        (PDF, "pdf"),
        (office("docx"), "docx"),
        (office("xlsx"), "xlsx"),
        (office("pptx"), "pptx"),
        (office("ofd"), "ofd"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "ole"),
        (MP4, "mp4"),
        (HTML, None),
        (SVG, None),
        (EXE, None),
        (plain_zip(), None),
        (b"PK\x03\x04 not really a zip", None),
        (b"", None),
    ],
)
def test_sniff_reads_the_content(data, kind):
    f = io.BytesIO(data)
    assert uploads.sniff(f) == kind
    assert f.tell() == 0  # left at the start for whoever stores it


def test_the_name_does_not_decide_but_gets_the_real_extension():
    png = uploads.TYPES["png"]
    assert uploads.safe_name("现场照片.jpg", png) == "现场照片.png"
    assert uploads.safe_name("SCAN.PNG", png) == "SCAN.png"
    assert uploads.safe_name("../../etc/passwd", png) == "passwd.png"
    assert uploads.safe_name("C:\\Users\\a\\b c.png", png) == "b_c.png"
    assert uploads.safe_name("", png) == "文件.png"
    assert uploads.safe_name("报告.doc", uploads.TYPES["ole"]) == "报告.doc"


def _inspect(data: bytes, name: str, **kw):
    kw.setdefault("allowed", ["jpeg", "png", "pdf"])
    kw.setdefault("max_bytes", 1024 * 1024)
    return uploads.inspect(io.BytesIO(data), name, len(data), **kw)


def test_inspect_accepts_an_allowed_type_under_its_real_name():
    accepted = _inspect(JPEG, "photo.png")
    assert accepted.file_type.key == "jpeg" and accepted.name == "photo.jpg"


def test_inspect_refuses_a_page_named_like_a_photo():
    with pytest.raises(uploads.UploadRefused) as exc:
        _inspect(HTML, "照片.jpg")
    assert str(exc.value) == (
        "文件「照片.jpg」按内容识别为无法识别的类型,不是允许上传的类型"
        "(允许:JPEG 图片、PNG 图片、PDF 文档)"
    )


def test_inspect_refuses_a_known_type_that_is_not_allowed():
    with pytest.raises(uploads.UploadRefused) as exc:
        _inspect(office("docx"), "a.pdf")
    assert "按内容识别为Word 文档" in str(exc.value)


def test_inspect_refuses_a_file_over_the_limit_and_an_empty_one():
    with pytest.raises(uploads.UploadRefused) as exc:
        _inspect(JPEG + b"\x00" * 2 * 1024 * 1024, "big.jpg", max_bytes=2 * 1024 * 1024)
    assert "超过上限 2 MB" in str(exc.value)
    with pytest.raises(uploads.UploadRefused, match="空文件"):
        _inspect(b"", "empty.jpg")
