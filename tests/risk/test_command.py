"""`yingji risk`: import with a row report and exit status 2, export, reports."""

import io

import pytest
from django.core.management import CommandError, call_command

from yingji.risk.models import Enterprise

from .test_ledger import ENT_HEADERS, enterprises_file, xlsx


def test_import_then_reimport_then_export(gz, tmp_path):
    path = tmp_path / "e.xlsx"
    path.write_bytes(enterprises_file())
    out = io.StringIO()
    call_command("risk", "import", "enterprises", str(path), stdout=out, stderr=io.StringIO())
    assert "新增 2" in out.getvalue()
    out = io.StringIO()
    call_command("risk", "import", "enterprises", str(path), stdout=out, stderr=io.StringIO())
    assert "新增 0,更新 0,未变化 2" in out.getvalue()
    target = tmp_path / "out.xlsx"
    call_command("risk", "export", "enterprises", str(target), stdout=io.StringIO())
    assert target.read_bytes()[:2] == b"PK"


def test_a_bad_file_exits_2_naming_file_row_and_column(gz, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx(ENT_HEADERS, [["123", "x", "", None, None, "", "2614", "", "否", ""]]))
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("risk", "import", "enterprises", str(path), stdout=io.StringIO(), stderr=err)
    assert exc.value.returncode == 2
    assert "bad.xlsx:2:统一社会信用代码: 统一社会信用代码须为18位" in err.getvalue()
    assert not Enterprise.objects.exists()


def test_report_and_consultation_files(gz, tmp_path):
    docx, html, sheet = tmp_path / "r.docx", tmp_path / "r.html", tmp_path / "c.html"
    call_command(
        "risk",
        "report",
        "--year",
        "2025",
        "--quarter",
        "3",
        "--docx",
        str(docx),
        "--html",
        str(html),
        stdout=io.StringIO(),
    )
    assert docx.read_bytes()[:2] == b"PK"
    assert "2025年第3季度安全风险分析报告" in html.read_text(encoding="utf-8")
    call_command(
        "risk",
        "consultation",
        "--start",
        "2025-09-29",
        "--end",
        "2025-10-08",
        "--html",
        str(sheet),
        stdout=io.StringIO(),
    )
    text = sheet.read_text(encoding="utf-8")
    assert "国庆" in text and "汛期" in text
    with pytest.raises(CommandError, match="早于"):
        call_command("risk", "consultation", "--start", "2025-10-08", "--end", "2025-09-29")
