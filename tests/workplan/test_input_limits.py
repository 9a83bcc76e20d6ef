"""Plan documents and task ledgers within limits: a .docx or .xlsx that would
unpack to far more than it weighs is refused before it is unpacked, with the
limit in the message; an upload over YINGJI_PLAN_MAX_BYTES is refused from its
size."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.workplan.factories import user
from tests.zipbombs import MB, docx_bomb, xlsx_bomb
from yingji.core.models import Role
from yingji.workplan import ledger
from yingji.workplan.docsource import PlanDocumentError
from yingji.workplan.models import Plan
from yingji.workplan.parser import parse_plan


def issues(source, **kwargs) -> list[str]:
    with pytest.raises(PlanDocumentError) as caught:
        parse_plan(source, **kwargs)
    return [str(issue) for issue in caught.value.issues]


def test_a_docx_bomb_is_refused_by_its_ratio():
    found = issues(docx_bomb(10 * MB).read_bytes())
    assert len(found) == 1 and found[0].startswith("全文:.docx 其中 word/document.xml 解压后")
    assert "超过上限 100:1" in found[0] and "未解压" in found[0]


def test_a_docx_over_the_unpacked_limit_is_refused_whatever_the_ratio():
    found = issues(docx_bomb(30 * MB).read_bytes(), max_ratio=10**6)
    assert found[0].startswith("全文:.docx 解压后共 3") and "上限 20,971,520 字节" in found[0]


@pytest.fixture
def admin(db):
    return user("admin", role=Role.ADMIN)


def test_the_api_refuses_a_bomb_and_an_oversized_plan_with_422(client, admin, settings):
    client.force_login(admin)
    bomb = SimpleUploadedFile("2026年工作要点.docx", docx_bomb(10 * MB).read_bytes())
    r = client.post("/api/v1/workplan/plans/import", {"file": bomb})
    assert r.status_code == 422 and "压缩比" in r.json()["detail"]
    settings.YINGJI_PLAN_MAX_BYTES = 1000
    text = SimpleUploadedFile("要点.txt", ("一、总体要求\n" * 500).encode())
    r = client.post("/api/v1/workplan/plans/import", {"file": text})
    assert r.status_code == 422
    assert (
        r.json()["detail"].startswith("要点.txt:文件过大")
        and "上限 1,000 字节" in r.json()["detail"]
    )
    assert not Plan.objects.exists()


def test_a_ledger_bomb_is_refused_naming_the_file(db):
    plan = Plan.objects.create(title="2026年工作要点", year=2026)
    with pytest.raises(ledger.LedgerImportError) as caught:
        ledger.import_ledger(plan, xlsx_bomb(20 * MB).read_bytes(), None, filename="台账.xlsx")
    message = str(caught.value.issues[0])
    assert "台账.xlsx:其中 xl/sharedStrings.xml" in message and "疑似压缩炸弹" in message
