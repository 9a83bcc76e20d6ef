"""core/safezip.py: an archive is judged from its directory before anything in it
is unpacked; each refusal names the file and the limit."""

import io
import struct
import zipfile

import pytest

from tests.zipbombs import MB, xlsx_bomb
from yingji.core import safezip


def archive(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for name, body in members.items():
            z.writestr(name, body)
    return out.getvalue()


def test_an_ordinary_office_file_passes_and_its_members_are_listed():
    from openpyxl import Workbook

    book = Workbook()
    for i in range(2000):
        book.active.append([f"IM{i:08d}", "一般隐患", "消防安全", i * 1.5])
    out = io.BytesIO()
    book.save(out)
    members = safezip.check(out.getvalue(), "台账.xlsx")
    assert "xl/worksheets/sheet1.xml" in {m.filename for m in members}


def test_the_issues_bomb_is_refused_by_its_ratio():
    data = xlsx_bomb(400 * MB).read_bytes()
    with pytest.raises(safezip.SafeZipError) as caught:
        safezip.check(data, "隐患台账.xlsx")
    message = str(caught.value)
    assert message.startswith("隐患台账.xlsx:其中 xl/sharedStrings.xml 解压后 420,")
    assert "超过上限 100:1" in message and "未解压" in message


def test_more_unpacked_than_the_total_limit_is_refused_whatever_the_ratio():
    stored = archive({"a.bin": b"x" * (3 * MB)}, zipfile.ZIP_STORED)  # ratio 1:1
    with pytest.raises(safezip.SafeZipError, match=r"^a\.zip:解压后共 3,145,728 字节"):
        safezip.check(stored, "a.zip", safezip.Limits(max_unpacked=2 * MB))
    assert safezip.check(stored, "a.zip", safezip.Limits(max_unpacked=4 * MB))


def test_many_small_members_are_judged_together():
    # Each member is below the ratio floor; together they are 300 MB from 300 KB.
    data = archive({f"part{i}.xml": b"\0" * 1_000_000 for i in range(300)})
    with pytest.raises(safezip.SafeZipError, match="是文件大小的 .* 倍"):
        safezip.check(data, "x.xlsx", safezip.Limits(max_unpacked=10**9))
    with pytest.raises(safezip.SafeZipError, match="300 个文件,上限 100 个"):
        safezip.check(data, "x.xlsx", safezip.Limits(max_members=100))


def test_the_archive_itself_over_its_size_limit_is_refused_first():
    data = archive({"a.txt": b"hello"})
    with pytest.raises(safezip.SafeZipError, match=r"^a\.docx:文件过大,.*上限 100 字节"):
        safezip.check(data, "a.docx", safezip.Limits(max_bytes=100))


def test_not_a_zip_is_its_own_error():
    with pytest.raises(safezip.NotAZipError, match="不是有效的 zip"):
        safezip.check(b"<html>not an office file</html>", "a.xlsx")


def test_a_file_object_is_read_in_place_and_left_where_it_was():
    stream = io.BytesIO(archive({"a.txt": b"hello"}))
    assert [m.filename for m in safezip.check(stream, "a.zip")] == ["a.txt"]
    assert stream.tell() == 0


def test_a_member_that_lies_about_its_size_cannot_unpack_beyond_it():
    """The premise of the module: zipfile unpacks a member only up to its declared
    size, so checking the declared sizes bounds what a reader unpacks."""
    data = bytearray(archive({"a.xml": b"A" * (20 * MB)}))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).infolist()[0]
    struct.pack_into("<I", data, info.header_offset + 22, 1000)  # local header
    struct.pack_into("<I", data, data.rfind(b"PK\x01\x02") + 24, 1000)  # directory
    lying = bytes(data)
    assert safezip.check(lying, "a.zip", safezip.Limits(max_ratio=10**6))[0].file_size == 1000
    with zipfile.ZipFile(io.BytesIO(lying)) as z, z.open("a.xml") as f:
        with pytest.raises(zipfile.BadZipFile, match="CRC"):
            while f.read(65536):
                pass
