"""In Chromium: district staff take a hazard through the rectification loop,
and a ledger upload with a bad row shows the row-by-row report."""

import datetime as dt

import pytest

from yingji.risk import services
from yingji.risk.models import Enterprise, Hazard

from .test_ledger import ENT_HEADERS, xlsx

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_district_staff_rectify_a_hazard_and_upload_a_ledger(
    live_server, logged_in_page, chem, people, tmp_path
):
    hazard = services.create_hazard(
        chem, description="消防通道堵塞", source="public_report", found_on=dt.date(2026, 3, 2)
    )
    page = logged_in_page("tianhe")
    page.goto(f"{live_server.url}/risk/hazards/")
    page.click(f"text={hazard.code}")
    assert page.inner_text("#hazard-state") == "已上报"
    page.fill("input[name=deadline]", "2026-03-31")
    page.click("button:has-text('交办整改')")
    page.wait_for_selector(".messages li.success")
    assert page.inner_text("#hazard-state") == "已交办"
    page.click("button:has-text('开始整改')")
    page.wait_for_selector("#hazard-state:has-text('整改中')")
    page.click("button:has-text('提请验收')")  # without the required comment
    page.wait_for_selector(".messages li.error")
    assert "须填写说明" in page.inner_text(".messages")
    page.fill("input[name=comment]", "已清理通道并设置标识")
    page.click("button:has-text('提请验收')")
    page.wait_for_selector("#hazard-state:has-text('待验收')")
    assert Hazard.objects.get(pk=hazard.pk).state == "submitted"

    bad = tmp_path / "企业.xlsx"
    bad.write_bytes(
        xlsx(ENT_HEADERS, [["123", "某公司", "", None, None, "", "2614", "", "否", ""]])
    )
    page.goto(f"{live_server.url}/risk/ledgers/")
    page.set_input_files("input[name=file]", str(bad))
    page.click("button:has-text('校验并导入')")
    page.wait_for_selector("#import-errors")
    assert "未导入任何数据" in page.inner_text("#import-summary")
    assert "18位" in page.inner_text("#import-errors")
    assert Enterprise.objects.count() == 1
