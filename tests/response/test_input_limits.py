"""Plan documents and resource workbooks within limits: refused before they are
unpacked, or from their size before they are read, the file named."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.zipbombs import MB, docx_bomb, xlsx_bomb
from yingji.response import plandoc, resource_import
from yingji.response.models import EmergencyPlan, RescueTeam

pytestmark = pytest.mark.django_db


def test_a_plan_docx_bomb_is_refused_before_it_is_unpacked():
    before = EmergencyPlan.objects.count()
    with pytest.raises(plandoc.PlanDocError) as caught:
        plandoc.import_docx(io.BytesIO(docx_bomb(10 * MB).read_bytes()), filename="预案.docx")
    message = str(caught.value)
    assert message.startswith("预案.docx:其中 word/document.xml 解压后") and "压缩比" in message
    assert EmergencyPlan.objects.count() == before


def test_a_plan_upload_over_its_limit_is_refused_from_its_size(settings):
    settings.YINGJI_PLAN_MAX_BYTES = 1000
    upload = SimpleUploadedFile("预案.docx", b"PK" + b"\0" * 5000)
    with pytest.raises(plandoc.PlanDocError, match=r"^预案\.docx:文件过大,5,002 字节"):
        plandoc.import_docx(upload, filename=upload.name)


def test_a_resource_workbook_bomb_and_an_oversized_one_are_refused(settings):
    with pytest.raises(resource_import.ImportProblems) as caught:
        resource_import.import_workbook(xlsx_bomb(20 * MB).read_bytes(), filename="资源.xlsx")
    assert caught.value.problems[0].startswith("资源.xlsx:其中 xl/sharedStrings.xml")
    settings.YINGJI_XLSX_MAX_BYTES = 1000
    upload = SimpleUploadedFile("资源.xlsx", b"PK" + b"\0" * 5000)
    with pytest.raises(resource_import.ImportProblems, match=r"资源\.xlsx:文件过大"):
        resource_import.import_workbook(upload, filename=upload.name)
    assert not RescueTeam.objects.exists()
