"""In Chromium: a department user logs in, opens the board, files a progress
report, and sees the task's status and the audit log change."""

import pytest
from playwright.sync_api import expect

from tests.workplan.factories import plan_with_tasks, user
from yingji.workplan.models import ProgressReport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_department_user_reports_progress_on_the_board(live_server, logged_in_page):
    w = plan_with_tasks()
    user("zonghe", department=w["zonghe"])
    t3 = w["t3"]

    page = logged_in_page("zonghe")

    page.goto(f"{live_server.url}/plans/{w['plan'].pk}/")
    assert "挂图作战" in page.inner_text("h1")
    chip = page.locator("a.task-chip", has_text="修订免处罚清单")
    assert chip.count() == 1
    # 综合处 sees only its own tasks: 危化处's task is not on its board
    assert page.locator("a.task-chip", has_text="老旧装置").count() == 0
    chip.click()
    page.wait_for_selector("#task-status")
    before = page.inner_text("#task-status")
    audit_rows_before = page.locator("#audit tbody tr").count()

    page.fill("#report-form input[name=percent]", "100")
    page.fill("#report-form textarea[name=text]", "免处罚清单修订稿已印发实施")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector(".messages li.success")

    assert before != "已完成"
    assert page.inner_text("#task-status") == "已完成"
    assert "免处罚清单修订稿已印发实施" in page.inner_text("#timeline")
    audit_text = page.inner_text("#audit")
    assert "zonghe" in audit_text and "进展报告" in audit_text
    assert page.locator("#audit tbody tr").count() > audit_rows_before
    assert ProgressReport.objects.filter(task=t3, percent=100).count() == 1

    # a past year's board opens as of its year end, where the report (filed today)
    # is not yet counted; its link to today shows the task in the "done" column
    page.goto(f"{live_server.url}/plans/{w['plan'].pk}/")
    assert "截至 2022-12-31" in page.inner_text(".totals")
    assert "修订免处罚清单" not in page.locator("td[data-status=done]").inner_text()
    page.click("#as-of-note a")
    expect(page.locator(".totals")).not_to_contain_text("截至 2022-12-31")
    done_cell = page.locator("td[data-status=done]")
    assert "修订免处罚清单" in done_cell.inner_text()
