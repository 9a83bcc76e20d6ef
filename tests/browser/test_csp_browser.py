"""In Chromium, under the Content-Security-Policy every response carries (scripts
from the site only, no inline script): the pages that run script still work and
the browser reports no violation — the map, the warning form's drawing tools, a
public warning's map, htmx (badges, filters), selects that submit their form, and
the API documentation served from local files."""

import pytest
from django.core.management import call_command

from tests.alerts.conftest import draft_spec
from tests.workplan.factories import user
from yingji.alerts import services
from yingji.core.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation the page reports, kept on the window (an init script is the
# browser's own, outside the page's policy).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile);
});
"""


def _watched(logged_in_page, username):
    page = logged_in_page(username)
    page.context.add_init_script(WATCH)
    return page


def _violations(page) -> list[str]:
    return page.evaluate("window.__csp")


def test_pages_with_script_work_under_the_policy(live_server, logged_in_page):
    call_command("regions", "load", "guangzhou")
    services.ensure_groups()
    author = user("sanfang", role=Role.DEPT_STAFF)
    leader = user("leader", role=Role.LEADER)
    alert = services.create_draft(author, draft_spec())
    services.submit(alert, author)
    alert = services.approve(alert, leader)
    page = _watched(logged_in_page, leader)

    with page.expect_response(lambda r: "/workbench/badges/" in r.url) as badges:
        page.goto(f"{live_server.url}/map/")  # htmx loads the menu's badges
    assert badges.value.ok
    page.wait_for_selector(".yingji-layers label")
    page.wait_for_selector(".leaflet-container path.leaflet-interactive")
    assert _violations(page) == []

    page.goto(f"{live_server.url}/alerts/public/{alert.pk}/")
    page.wait_for_selector('#alert-map[data-ready="1"] path.leaflet-interactive')
    assert _violations(page) == []

    page.goto(f"{live_server.url}/alerts/new/")
    page.wait_for_selector("#alert-draw-map .leaflet-draw-draw-polygon")
    assert _violations(page) == []

    page.goto(f"{live_server.url}/alerts/")
    page.select_option("select[name=state]", "published")  # data-autosubmit
    page.wait_for_url("**/alerts/?state=published")
    assert _violations(page) == []

    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert _violations(page) == []


def test_an_inline_script_would_be_refused(live_server, logged_in_page):
    """The policy is really enforced: script injected into a page does not run."""
    user("viewer", role=Role.SUPERVISOR)
    page = _watched(logged_in_page, "viewer")
    page.goto(f"{live_server.url}/")
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.__ran = true;";
                   document.body.appendChild(s); }"""
    )
    page.wait_for_function("window.__csp.length > 0")
    assert page.evaluate("window.__ran === undefined")
    assert any(v.startswith("script-src") for v in _violations(page))


def test_the_standalone_bulletin_prints_under_its_own_policy(live_server, logged_in_page):
    """The bulletin loads no file of the site (it is also written to a file): its
    print link's inline script is allowed by its hash, and nothing else is."""
    import datetime as dt

    from tests.workplan.factories import plan_with_tasks
    from yingji.workplan import bulletins

    w = plan_with_tasks()
    bulletin = bulletins.generate(w["plan"], "monthly", dt.date(2022, 6, 30))
    user("supervisor", role=Role.SUPERVISOR)
    page = _watched(logged_in_page, "supervisor")
    page.context.add_init_script("window.print = function () { window.__printed = true; };")
    page.goto(f"{live_server.url}/plans/bulletins/{bulletin.pk}/")
    page.click("a[data-print]")
    page.wait_for_function("window.__printed === true")
    assert _violations(page) == []
