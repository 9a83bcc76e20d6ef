"""In Chromium: the one map opens with the layers a page asks for (?layers=)."""

import pytest
from django.core.management import call_command

from tests.workplan.factories import user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _checked(page, title: str) -> bool:
    return page.locator(".yingji-layers label", has_text=title).locator("input").is_checked()


def test_map_opens_with_a_preset_of_layers(live_server, logged_in_page):
    call_command("regions", "load", "guangzhou")
    user("viewer")
    page = logged_in_page("viewer")
    page.goto(f"{live_server.url}/map/")
    page.wait_for_selector(".yingji-layers label")
    assert _checked(page, "区界") and not _checked(page, "镇街界")
    page.goto(f"{live_server.url}/map/?layers=streets")
    page.wait_for_selector(".yingji-layers label")
    assert _checked(page, "镇街界") and not _checked(page, "区界")
