"""In Chromium: a street office works from a phone, and the side menu fits a
desktop window.

At 375 × 740 (a phone) every page a street office acts on — the workbench, its
action cards and the incident page that holds them, the hazard list, a hazard
with its handling, evidence and rectification-plan forms, a task's progress
report, the resources (shelters), the search page and the login page; and the
duty officer's incident report forms — has no horizontal scrolling, tap targets
at least 44 px tall (links, buttons and fields in the page, and ☰), and its
forms in one column; ☰ opens the menu and a menu link navigates. At 1400 × 900
the supervisor's and the administrator's menus (the most entries) show every
group without scrolling, no entry wraps and the top bar is one line.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from yingji.core import nav, workbench
from yingji.core.models import Department, Profile, Region, Role
from yingji.response import plans as response_plans
from yingji.response import services as response_services
from yingji.response.models import EmergencyPlan, RescueTeam, Shelter, Warehouse
from yingji.risk import creditcode
from yingji.risk import services as risk_services
from yingji.risk.models import HazardEvidence
from yingji.workplan.models import Assignment, Milestone, Plan, Section, Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1400, "height": 900}
CONTEXT = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
TAP = 44  # px: the smallest tap target
SHIPAI = (113.3612, 23.1247)  # inside the street's box below

# What a person sees of a page at the current width: horizontal overflow, tap
# targets under 44 px, and the forms whose fields do not share one left edge.
MEASURE = r"""(tap) => {
  const shown = e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden"; };
  const name = e => { const field = ["INPUT", "SELECT", "TEXTAREA"].includes(e.tagName);
    const text = field ? e.name : e.innerText || e.getAttribute("aria-label") || "";
    return e.tagName.toLowerCase() + (e.tagName === "INPUT" ? "[" + e.type + "]" : "")
      + " «" + text.replace(/\s+/g, " ").trim().slice(0, 24) + "»"; };
  const small = [];
  for (const e of document.querySelectorAll(
      "main a, main button, main input, main select, main textarea, .nav-button")) {
    if (!shown(e)) continue;
    const h = e.getBoundingClientRect().height;
    if (h < tap) small.push(name(e) + " " + h.toFixed(1) + "px");
  }
  const ragged = [];
  let forms = 0;
  for (const f of document.querySelectorAll("main form")) {
    const fields = [...f.querySelectorAll("input, select, textarea")].filter(shown);
    if (!fields.length) continue;
    forms += 1;
    const lefts = fields.map(e => Math.round(e.getBoundingClientRect().left));
    if (Math.max(...lefts) - Math.min(...lefts) > 4)
      ragged.push((f.getAttribute("action") || "(this page)") + ": "
        + fields.map((e, i) => name(e) + "@" + lefts[i]).join(", "));
  }
  const wide = [...document.querySelectorAll("body *")].filter(
      e => shown(e) && e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 5).map(e => name(e) + " right=" + Math.round(e.getBoundingClientRect().right));
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          small, ragged, forms, wide, tables: document.querySelectorAll("main table").length};
}"""


def _user(username, role, department=None, region=None, **flags) -> User:
    u = User.objects.create_user(username, email=f"{username}@example.org", **flags)
    Profile.objects.create(
        user=u, role=role, department=department, region=region, full_name=username
    )
    return u


def _box(x0, y0, x1, y1):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@pytest.fixture
def street_world(db):
    """石牌街道 (440106006) with its office and its staff account, as the demo's
    `shipai`; two action cards for the office (one to acknowledge, one to
    complete), hazards in the street in the states the office acts on, a task
    the office reports on, resources with shelters and a duty officer."""
    city = Region.objects.create(
        code="440100", name="广州市", level="city", boundary=_box(112.9, 22.5, 114.1, 23.95)
    )
    district = Region.objects.create(
        code="440106",
        name="天河区",
        level="district",
        parent=city,
        boundary=_box(113.30, 23.09, 113.45, 23.25),
    )
    street = Region.objects.create(
        code="440106006",
        name="石牌街道",
        level="street",
        parent=district,
        boundary=_box(113.34, 23.11, 113.38, 23.14),
    )
    office = Department.objects.create(
        name="天河区石牌街道应急办", kind="street_office", region=street, email="sp@example.org"
    )
    command = Department.objects.create(name="指挥中心")
    shipai = _user("shipai", Role.DISTRICT_STAFF, office, street)
    duty = _user("duty", Role.DUTY_OFFICER, command)
    now = timezone.now()

    plan = response_plans.save_structure(
        {
            "title": "内涝防御属地响应",
            "groups": [{"name": "现场组", "members": ["受影响区域镇街"]}],
            "cards": [
                {
                    "level": "IV",
                    "department": "受影响区域镇街",
                    "title": "组织积水点巡查并设置警示标志",
                    "text": "组织社区(村)巡查易涝点、低洼地、地下空间,发现险情立即上报",
                    "ack": 10,
                    "limit": 30,
                },
                {
                    "level": "IV",
                    "department": "受影响区域镇街",
                    "title": "逐户转移群众并上报人数",
                    "ack": 10,
                    "limit": 60,
                },
            ],
        },
        status=EmergencyPlan.Status.ACTIVE,
    )
    incident = response_services.register_incident(
        response_services.IncidentInput(
            title="天河区石牌街暴雨内涝",
            incident_type="暴雨",
            occurred_at=now,
            lon=SHIPAI[0],
            lat=SHIPAI[1],
            address="天河区石牌街道石牌东路",
        ),
        user=duty,
        at=now,
    )
    activation = response_services.activate(plan, incident, "IV", user=duty, at=now)
    cards = list(activation.cards.filter(department=office).order_by("title"))
    assert len(cards) == 2
    response_services.acknowledge(cards[0], user=shipai, at=now)

    enterprise = risk_services.save_enterprise(
        credit_code=creditcode.make("91440106", 7),
        name="广州市石牌嘉禾百货商场有限公司",
        industry_code="F5211",
        lon=SHIPAI[0],
        lat=SHIPAI[1],
        address="天河区石牌东路",
    )
    assert enterprise.street_id == street.pk

    def hazard(description, **kw):
        return risk_services.create_hazard(
            enterprise, description=description, source="regulator_inspection", **kw
        )

    reported = hazard("消防通道堵塞,安全出口被货物占用")
    submitted = hazard("临时用电线路私拉乱接")
    for action, extra in (
        ("assign", {"deadline": timezone.localdate() + dt.timedelta(days=10)}),
        ("start", {}),
        ("submit", {"comment": "已重新敷设线路并加装漏电保护"}),
    ):
        risk_services.transition(submitted, action, shipai, **extra)
    HazardEvidence.objects.create(
        hazard=submitted,
        kind=HazardEvidence.Kind.RECTIFIED,
        file=SimpleUploadedFile("整改后现场照片_石牌东路仓库北侧配电箱_20260501.jpg", b"jpeg"),
        note="整改后",
        uploaded_by=shipai,
    )
    major = hazard("储罐区未设置紧急切断装置", level="major")

    work = Plan.objects.create(title="2026年工作要点", year=2026, source_sha256="phone")
    section = Section.objects.create(plan=work, number=1, title="一、强化风险防范")
    task = Task.objects.create(
        plan=work,
        section=section,
        number=7,
        text="开展汛前易涝点排查,建立镇街易涝点台账并落实责任人。",
        due=timezone.localdate() + dt.timedelta(days=30),
    )
    Assignment.objects.create(
        task=task, department=office, role="lead", position=0, name_as_written=office.name
    )
    Milestone.objects.create(
        task=task, kind="deadline", title="完成时限", due=timezone.localdate() + dt.timedelta(30)
    )

    RescueTeam.objects.create(
        name="天河区应急救援大队", capabilities=["排涝", "水上救援"], lon=113.36, lat=23.12
    )
    Warehouse.objects.create(name="天河区应急物资储备库", lon=113.37, lat=23.13)
    Shelter.objects.create(
        name="石牌街道华师附中应急避护场所",
        lon=113.355,
        lat=23.128,
        capacity=1200,
        occupancy=86,
        is_open=True,
        facilities=["供水", "供电", "医疗点"],
        street=street,
    )
    return {
        "shipai": shipai,
        "duty": duty,
        "incident": incident,
        "cards": cards,
        "reported": reported,
        "submitted": submitted,
        "major": major,
        "task": task,
    }


@pytest.fixture
def street_workbench(monkeypatch, street_world):
    """The street office's workbench with its cards and hazards on it (the
    modules' own sources land separately; the page's layout is what is tested)."""
    w = street_world
    url = f"/response/incidents/{w['incident'].pk}/"

    def items(ctx):
        yield workbench.Item(
            "待签收行动卡",
            f"{w['incident'].title}:{w['cards'][1].title}",
            url,
            action="签收",
            deadline=ctx.now + dt.timedelta(minutes=10),
            urgency=workbench.URGENT,
            detail="内涝防御属地响应 · 四级响应",
        )
        yield workbench.Item(
            "待整改隐患",
            f"{w['reported'].code} 广州市石牌嘉禾百货商场有限公司:消防通道堵塞",
            f"/risk/hazards/{w['reported'].pk}/",
            action="交办整改",
            deadline=ctx.today - dt.timedelta(days=2),
            urgency=workbench.OVERDUE,
        )

    source = workbench.Source("phone.street", "街道待办", "command", items)
    monkeypatch.setitem(workbench._sources, source.key, source)
    return w


def _check(page, live_server, path: str) -> dict:
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("networkidle")
    return page.evaluate(MEASURE, TAP)


def _problems(path: str, m: dict) -> list[str]:
    out = []
    if m["scrollWidth"] > m["innerWidth"]:
        out.append(
            f"{path}: scrolls sideways ({m['scrollWidth']} > {m['innerWidth']} px): "
            + "; ".join(m["wide"])
        )
    if m["small"]:
        out.append(f"{path}: tap targets under {TAP} px: " + "; ".join(m["small"]))
    if m["ragged"]:
        out.append(f"{path}: form fields not in one column: " + " | ".join(m["ragged"]))
    return out


def test_a_street_office_works_every_page_on_a_phone(live_server, logged_in_page, street_workbench):
    w = street_workbench
    page = logged_in_page(w["shipai"], viewport=PHONE, **CONTEXT)
    pages = {
        "/": "工作台",
        "/response/cards/mine/": "组织积水点巡查",
        f"/response/incidents/{w['incident'].pk}/": "逐户转移群众",
        "/risk/hazards/": w["reported"].code,
        f"/risk/hazards/{w['reported'].pk}/": "交办整改",
        f"/risk/hazards/{w['submitted'].pk}/": "验收通过",
        f"/risk/hazards/{w['major'].pk}/": "整改方案",
        f"/plans/tasks/{w['task'].pk}/": "报送进展",
        "/response/resources/": "石牌街道华师附中应急避护场所",
        f"/search/?q={w['reported'].code}": "搜索",
    }
    problems, measured = [], {}
    for path, expected in pages.items():
        m = _check(page, live_server, path)
        assert expected in page.inner_text("main"), path
        measured[path] = m
        problems += _problems(path, m)
    assert not problems, "\n".join(problems)
    # The pages had what the checks are about: forms to fill and tables to read.
    assert measured["/response/cards/mine/"]["forms"] == 2  # 签收 is a button, 完成 has a field
    assert measured[f"/risk/hazards/{w['submitted'].pk}/"]["forms"] >= 3  # accept, reject, upload
    assert measured[f"/plans/tasks/{w['task'].pk}/"]["forms"] >= 2  # report, milestone
    assert all(measured[p]["tables"] for p in ("/response/cards/mine/", "/risk/hazards/"))

    # A card is one readable card: each value under its column's name, the
    # actions inside the screen.
    page.goto(f"{live_server.url}/response/cards/mine/")
    row = page.locator("main tbody tr").filter(has_text="组织积水点巡查")
    task_cell = row.locator("td[data-label='任务']")
    assert task_cell.evaluate("e => getComputedStyle(e, '::before').content") == '"任务"'
    box = row.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert not page.locator("main thead").is_visible()
    # … and it is acted on from there: the completion report goes in.
    row = page.locator("main tbody tr").filter(has_text="组织积水点巡查")
    row.locator("input[name=result]").fill("已巡查 12 处易涝点,设置警示标志 8 处")
    row.locator("button:has-text('完成')").click()
    page.wait_for_selector(".messages li.success")
    assert "已反馈完成" in page.inner_text(".messages")
    # The card's incident is one tap away: its page shows the card with the result.
    row = page.locator("main tbody tr").filter(has_text="组织积水点巡查")
    row.locator("a", has_text=w["incident"].title).click()
    page.wait_for_url(f"{live_server.url}/response/incidents/{w['incident'].pk}/")
    assert "已巡查 12 处易涝点" in page.inner_text(".activation")


def test_forms_of_the_desk_and_the_login_page_fit_a_phone(
    live_server, logged_in_page, browser, street_world
):
    w = street_world
    page = logged_in_page(w["duty"], viewport=PHONE, **CONTEXT)
    problems = []
    for path, expected in (
        ("/response/incidents/", "接报登记"),
        (f"/response/incidents/{w['incident'].pk}/", "续报"),
    ):
        m = _check(page, live_server, path)
        assert expected in page.inner_text("main"), path
        assert m["forms"] >= 2, path
        problems += _problems(path, m)

    anonymous = browser.new_context(viewport=PHONE, **CONTEXT).new_page()
    m = _check(anonymous, live_server, "/accounts/login/")
    assert m["forms"] == 1
    problems += _problems("/accounts/login/", m)
    assert not problems, "\n".join(problems)


def test_the_menu_opens_behind_the_button_on_a_phone(live_server, logged_in_page, street_world):
    page = logged_in_page(street_world["shipai"], viewport=PHONE, **CONTEXT)
    page.goto(f"{live_server.url}/")
    menu = page.locator(".sidenav")
    button = page.locator(".nav-button")
    assert not menu.is_visible()
    assert button.bounding_box()["height"] >= TAP and button.bounding_box()["width"] >= TAP
    button.click()
    assert menu.is_visible()
    link = menu.locator("a", has_text="隐患台账")
    assert link.bounding_box()["height"] >= TAP
    link.click()
    page.wait_for_url(f"{live_server.url}/risk/hazards/")
    assert "隐患台账" in page.inner_text("main h1")
    assert not menu.is_visible()  # a new page starts with the menu closed
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


# Each side-menu entry and group heading on one line, text not cut off, and
# room for its text even in full-width glyphs (1 em a character, as Chinese
# fonts draw it: the test machine may have none); the top bar's parts side by
# side on one row; where the menu's last entry ends.
DESKTOP_MENU = """() => {
  // Lines of text: boxes that overlap vertically are one line (a smaller font's
  // box on the same line starts lower, so equal tops would miscount it).
  const lines = e => { const r = document.createRange(); r.selectNodeContents(e);
    const boxes = [...r.getClientRects()].filter(x => x.width > 0).sort((a, b) => a.top - b.top);
    let n = 0, bottom = -Infinity;
    for (const b of boxes) { if (b.top >= bottom - 1) { n += 1; bottom = b.bottom; }
                             else bottom = Math.max(bottom, b.bottom); }
    return n; };
  const room = e => { const s = getComputedStyle(e); const em = parseFloat(s.fontSize);
    const marker = e.tagName === "SUMMARY" ? 1.5 : 0;
    return e.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight)
      - ([...e.innerText.trim()].length + marker) * em; };
  const entries = [...document.querySelectorAll(".sidenav a, .sidenav summary")].map(e => ({
    text: e.innerText.trim(), height: e.getBoundingClientRect().height, lines: lines(e),
    cut: e.scrollWidth > e.clientWidth + 1 || room(e) < 0, room: room(e),
    bottom: e.getBoundingClientRect().bottom, link: e.tagName === "A" }));
  const bar = [...document.querySelector(".topbar").children].filter(
      e => e.getBoundingClientRect().height > 0 && getComputedStyle(e).display !== "none")
    .map(e => ({name: e.className, top: e.getBoundingClientRect().top,
                bottom: e.getBoundingClientRect().bottom, lines: lines(e)}));
  // The top bar in full-width glyphs: the brand and the account name stay whole
  // (nowrap) and leave the search field at least 240 px.
  const topbar = document.querySelector(".topbar");
  const full = e => [...e.innerText.trim()].length * parseFloat(getComputedStyle(e).fontSize);
  const barRoom = topbar.clientWidth - 2 * parseFloat(getComputedStyle(topbar).paddingLeft)
    - 3 * parseFloat(getComputedStyle(topbar).columnGap)
    - full(topbar.querySelector(".brand")) - full(topbar.querySelector(".who")) - 240;
  const menu = document.querySelector(".sidenav");
  return {entries, bar, groups: [...document.querySelectorAll(".navgroup")].map(
      g => ({key: g.dataset.group, open: g.open, shown: g.getBoundingClientRect().height > 0})),
    menuScrolls: menu.scrollHeight > menu.clientHeight + 1 || menu.scrollWidth > menu.clientWidth + 1,
    barRoom, innerHeight: window.innerHeight};
}"""


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_the_side_menu_fits_a_desktop_window(live_server, logged_in_page, db, role):
    office = Department.objects.create(name="办公室")
    if role == "admin":
        user = _user("admin", Role.ADMIN, is_staff=True, is_superuser=True)
    else:
        user = _user("supervisor", Role.SUPERVISOR, office)
    expected = [g["key"] for g in nav.groups_for(user)]
    titles = [e["title"] for e in nav.entries_for(user)]
    page = logged_in_page(user, viewport=DESKTOP, **CONTEXT)
    page.goto(f"{live_server.url}/")
    if role == "supervisor":  # the leader's figures arrive after the page (htmx)
        expect(page.locator("section.figures")).to_contain_text("在发预警", timeout=30_000)
    m = page.evaluate(DESKTOP_MENU)

    assert [g["key"] for g in m["groups"]] == expected
    assert all(g["open"] and g["shown"] for g in m["groups"])
    links = [e for e in m["entries"] if e["link"]]
    assert [e["text"] for e in links] == titles
    wrapped = [e["text"] for e in m["entries"] if e["lines"] != 1 or e["cut"]]
    assert not wrapped, f"menu entries wrap or are cut off: {wrapped}"
    heights = {round(e["height"]) for e in links}
    assert len(heights) == 1, f"menu entries of different heights: {heights}"
    below = [e["text"] for e in m["entries"] if e["bottom"] > m["innerHeight"]]
    assert not below and not m["menuScrolls"], f"below the window at 900 px: {below}"

    top = min(p["bottom"] for p in m["bar"])
    assert all(p["top"] < top for p in m["bar"]), f"top bar wraps: {m['bar']}"
    assert all(p["lines"] == 1 for p in m["bar"] if p["name"] in ("brand", "who")), m["bar"]
    assert m["barRoom"] >= 0, f"the top bar would wrap in Chinese glyphs: {m['barRoom']:.0f} px"
