"""A progress report's attachments: types by content and a size cap (settings);
served through the application to whoever sees the task."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.core.filesamples import EXE, PDF, office
from yingji.core.models import Role
from yingji.workplan.models import ProgressReport, ReportAttachment

from .factories import plan_with_tasks, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    w = plan_with_tasks()
    w["zonghe_user"] = user("zonghe", department=w["zonghe"])
    w["weihua_user"] = user("weihua", department=w["weihua"])
    w["supervisor"] = user("supervisor", role=Role.SUPERVISOR)
    return w


def _as(u) -> Client:
    client = Client()
    client.force_login(u)
    return client


def _report(client, task, *files):
    return client.post(
        reverse("workplan:report", args=[task.pk]),
        {"percent": "60", "text": "已形成修订稿", "files": list(files)},
        follow=True,
    )


def test_a_program_is_refused_and_no_report_is_filed(world):
    r = _report(_as(world["zonghe_user"]), world["t3"], SimpleUploadedFile("修订稿.pdf", EXE))
    assert "「修订稿.pdf」按内容识别为无法识别的类型,不是允许上传的类型" in r.content.decode()
    assert not ProgressReport.objects.exists() and not ReportAttachment.objects.exists()


def test_attachments_are_served_to_whoever_sees_the_task(world):
    zonghe = _as(world["zonghe_user"])
    t3 = world["t3"]  # led by 综合处 alone
    r = _report(
        zonghe,
        t3,
        SimpleUploadedFile("修订稿.docx", office("docx")),
        SimpleUploadedFile("会议纪要.pdf", PDF),
    )
    assert "进展已报送" in r.content.decode()
    docx = ReportAttachment.objects.get(name="修订稿.docx")
    pdf = ReportAttachment.objects.get(name="会议纪要.pdf")
    page = zonghe.get(reverse("workplan:task", args=[t3.pk])).content.decode()
    assert f'href="{docx.file.url}"' in page
    got = zonghe.get(docx.file.url)
    assert got.status_code == 200 and got["Content-Disposition"].startswith("attachment")
    assert zonghe.get(pdf.file.url)["Content-Disposition"].startswith("inline")
    assert _as(world["supervisor"]).get(pdf.file.url).status_code == 200
    # 危化处 has no part in task 3: neither the task nor its files
    weihua = _as(world["weihua_user"])
    assert weihua.get(reverse("workplan:task", args=[t3.pk])).status_code == 404
    assert weihua.get(pdf.file.url).status_code == 404
