"""Hazard evidence uploads: types by content and a size cap (settings), through
the page and the API; the files served through the application to those who see
the hazard, inline for images and PDF, as attachments otherwise."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.core.filesamples import HTML, JPEG, PDF, PNG, SVG, office
from yingji.risk import creditcode, services
from yingji.risk.models import HazardEvidence


@pytest.fixture
def hazards(chem, people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    builder = services.save_enterprise(
        credit_code=creditcode.make("91440105", 2),
        name="海珠建筑公司",
        industry_code="4710",
        lon=113.32,
        lat=23.09,
    )
    found = dt.date(2025, 1, 6)
    return {
        "tianhe": services.create_hazard(
            chem, description="液氯储罐泄漏报警失灵", source="self_inspection", found_on=found
        ),
        "haizhu": services.create_hazard(
            builder, description="脚手架缺防护", source="public_report", found_on=found
        ),
    }


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _upload(client, hazard, name: str, data: bytes, kind: str = "rectified"):
    return client.post(
        f"/api/v1/risk/hazards/{hazard.pk}/evidence",
        {"file": SimpleUploadedFile(name, data), "kind": kind, "note": "整改后"},
    )


def test_a_page_named_like_a_photo_is_refused(hazards, people):
    client = _as(people["tianhe"])
    r = _upload(client, hazards["tianhe"], "整改后.jpg", HTML)
    assert r.status_code == 422
    message = r.json()["detail"]["file"][0]
    assert "「整改后.jpg」按内容识别为无法识别的类型,不是允许上传的类型" in message
    assert "JPEG 图片" in message and "PDF 文档" in message
    r = _upload(client, hazards["tianhe"], "现场.png", SVG)  # SVG can carry script
    assert r.status_code == 422
    assert not HazardEvidence.objects.exists()


def test_the_page_form_says_why_a_file_is_refused(hazards, people):
    client = _as(people["tianhe"])
    h = hazards["tianhe"]
    r = client.post(
        f"/risk/hazards/{h.pk}/evidence/",
        {"file": SimpleUploadedFile("a.pdf", HTML), "kind": "found"},
        follow=True,
    )
    assert "「a.pdf」按内容识别为无法识别的类型" in r.content.decode()
    assert not HazardEvidence.objects.exists()


def test_a_photo_keeps_its_type_whatever_its_name(hazards, people):
    r = _upload(_as(people["tianhe"]), hazards["tianhe"], "现场照片.jpg", PNG)
    assert r.status_code == 201
    evidence = HazardEvidence.objects.get()
    assert evidence.file.name.endswith("现场照片.png")


def test_the_size_cap_is_a_setting(hazards, people, settings):
    settings.YINGJI_UPLOADS = {
        **settings.YINGJI_UPLOADS,
        "evidence": {"max_mb": 1, "types": ["jpeg"]},
    }
    r = _upload(_as(people["tianhe"]), hazards["tianhe"], "big.jpg", JPEG + b"\x00" * 1_100_000)
    assert r.status_code == 422 and "超过上限 1 MB" in r.json()["detail"]["file"][0]


def test_evidence_is_served_to_those_who_see_the_hazard(hazards, people, client):
    tianhe = _as(people["tianhe"])
    h = hazards["tianhe"]
    photo = _upload(tianhe, h, "after.jpg", JPEG).json()["url"]
    report = _upload(tianhe, h, "整改报告.docx", office("docx"), kind="acceptance").json()["url"]
    scan = _upload(tianhe, h, "验收.pdf", PDF, kind="acceptance").json()["url"]
    assert photo.startswith("/media/risk/evidence/")

    r = tianhe.get(photo)
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    assert r["Content-Disposition"].startswith("inline")
    assert b"".join(r.streaming_content) == JPEG
    assert tianhe.get(scan)["Content-Disposition"].startswith("inline")
    r = tianhe.get(report)
    assert r["Content-Disposition"].startswith("attachment")
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "sandbox" in r["Content-Security-Policy"]

    # the hazard page's links open
    page = tianhe.get(f"/risk/hazards/{h.pk}/").content.decode()
    assert f'href="{photo}"' in page

    # whoever sees the whole city may open it; another district may not (404, as
    # for the hazard itself); no login: to the login page
    assert _as(people["supervisor"]).get(photo).status_code == 200
    haizhu = _as(people["haizhu"])
    assert haizhu.get(f"/risk/hazards/{h.pk}/").status_code == 404
    assert haizhu.get(photo).status_code == 404
    r = client.get(photo)
    assert r.status_code == 302 and r.url.startswith("/accounts/login/")


def test_only_files_of_a_record_are_served(hazards, people, settings):
    (settings.MEDIA_ROOT / "risk" / "evidence").mkdir(parents=True)
    (settings.MEDIA_ROOT / "risk" / "evidence" / "stray.jpg").write_bytes(JPEG)
    (settings.MEDIA_ROOT / "other.txt").write_text("x")
    supervisor = _as(people["supervisor"])
    assert supervisor.get("/media/risk/evidence/stray.jpg").status_code == 404  # no record
    assert supervisor.get("/media/other.txt").status_code == 404  # no owner
    assert supervisor.get("/media/risk/evidence/../../other.txt").status_code == 404
