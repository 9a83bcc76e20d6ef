"""Chinese everywhere a person reads (issue 12).

The real demo (`yingji demo`: Guangzhou's regions, the departments and street
offices, the demo accounts and every module's demo data) is loaded once for the
module and rolled back at its end. Then, as each demo role, a crawler starts
from the home page and the navigation and follows every same-site link a page
shows (breadth first), and fails on

- a link that does not open (403, 404, 405, 500): show only what a user may open;
- an English word in what a person reads: the visible text, the page title and
  the tooltips, placeholders and alternative texts. Words that are data or
  that a Chinese reader reads as they are (units, CAP, Excel …) are allowed
  below; codes with digits (RG-440106006, SG20250001) are data, never words.

The full demo takes about 25 s on SQLite (a year of work-plan activity takes
4 s of it), so it is loaded whole rather than a subset: the crawl is only as
good as the variety of states the data shows.
"""

from __future__ import annotations

import io
import re
import time
from collections import deque
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve

from tests.workbench_items import figures_html
from yingji.core import nav

# One account per role (core/demo_users.py); a department's staff, the district
# and the street account see different scopes, so each is crawled.
ROLE_USERS = ["duty", "leader", "supervisor", "sanfang", "tianhe", "shipai", "admin"]

MAX_PAGES = 400  # per role
PER_ROUTE = 3  # pages of one URL pattern (one route with different ids or filters)

# What a Chinese reader reads as it is: the names of formats, standards and
# methods, and nothing else (the pages write units in Chinese: 毫米, 小时). An
# English word for something with a Chinese name (sms → 短信) is a finding.
ALLOWED_WORDS = {
    "CAP",  # Common Alerting Protocol, 预警信息的国际标准格式
    "API",  # 通过 API 创建 (the plan list before any plan exists)
    "Excel",
    "Word",
    "XML",
    "JSON",
    "CSV",
    "Atom",  # the feed format, 订阅源(Atom)
    "GeoJSON",
    "Python",  # the draw verifier is a Python program anyone may run
    "GB",  # GB/T 国家标准编号
    "GPS",  # 坐标系 WGS-84(GPS)
    "LEC",  # 作业条件危险性分析法(LEC) and 风险矩阵法(LS): the methods' usual names
    "LS",
}

SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/media/", "/accounts/")
SKIP_SUFFIXES = (".docx", ".xlsx", ".xls", ".csv", ".pdf", ".zip", ".xml", ".atom", ".json", ".py")

# Attributes whose text a person reads (hover, empty inputs, images).
READ_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label"}
HIDDEN_TAGS = {"script", "style", "template", "noscript"}
CODE_TAGS = {"code", "kbd", "samp"}  # computer code: a command, a file name, an identifier


VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class _Page(HTMLParser):
    """A page's readable text and its links.

    Content a template marks as not in Chinese is data shown as it is, not a
    label: computer code (<code>, <kbd>, <samp>: a command, a file name), an
    element with translate="no" (the raw text of a message, a GeoJSON example)
    or with a language other than Chinese (an external CAP message's English
    info, a public alert's English text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self.fragments: list[str] = []
        self._hidden = 0
        self._data: list[list] = []  # [tag, nesting] of the open data elements

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if a.get("hx-get"):  # a fragment the page loads (badges, live lists): read it too
            self.fragments.append(a["hx-get"])
        for open_ in self._data:
            open_[1] += open_[0] == tag
        if tag in HIDDEN_TAGS:
            self._hidden += 1
            return
        lang = (a.get("lang") or "zh").lower()
        is_data = tag in CODE_TAGS or a.get("translate") == "no" or not lang.startswith("zh")
        if is_data and tag not in VOID_TAGS:
            self._data.append([tag, 1])
        if is_data or self._hidden or self._data:
            return
        for name in READ_ATTRIBUTES:
            if a.get(name):
                self.text.append(a[name])
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.text.append(a["value"])

    def handle_endtag(self, tag):
        if tag in HIDDEN_TAGS and self._hidden:
            self._hidden -= 1
        for open_ in self._data:
            open_[1] -= open_[0] == tag
        self._data = [o for o in self._data if o[1] > 0]

    def handle_data(self, data):
        if not self._hidden and not self._data:
            self.text.append(data)


# Data, not words: web and e-mail addresses, codes that carry a digit.
_ADDRESS = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")
_WORD = re.compile(r"[A-Za-z]{2,}")


def english_words(text: str, allowed: set[str]) -> dict[str, str]:
    """The English words in `text`, each with the text around its first use."""
    text = _ADDRESS.sub(" ", " ".join(text.split()))
    words: dict[str, str] = {}
    for token in _TOKEN.finditer(text):
        if any(c.isdigit() for c in token.group()):
            continue
        for w in _WORD.findall(token.group()):
            if w not in allowed and w not in words:
                words[w] = text[max(0, token.start() - 20) : token.end() + 20]
    return words


@dataclass
class Finding:
    role: str
    url: str
    problem: str
    source: str

    def __str__(self) -> str:
        return f"{self.role:<10} {self.url}  {self.problem}  (链接来自 {self.source})"


HX_MARK = "hx:"  # a queued URL that a page loads with htmx (hx-get), not a link


def _skip(path: str) -> bool:
    return path.startswith(SKIP_PREFIXES) or path.lower().endswith(SKIP_SUFFIXES)


def _route_key(url: str) -> str | None:
    """The URL pattern a URL belongs to (with its query's parameter names), or
    None for a URL no view answers."""
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    params = sorted({p.split("=", 1)[0] for p in parts.query.split("&") if p})
    return f"{match.route}?{'&'.join(params)}"


def crawl(username: str, allowed: set[str]) -> tuple[list[Finding], int, int]:
    """Crawl the site as `username`: the findings, the number of pages read and
    how many of them were htmx fragments."""
    user = get_user_model().objects.get(username=username)
    client = Client()
    client.force_login(user)
    starts = ["/"] + [e["url"] for e in nav.entries_for(user) if not _skip(e["url"])]
    queue: deque[tuple[str, str]] = deque((u, "导航") for u in starts)
    seen: set[str] = set(starts)
    per_route: dict[str, int] = {}
    findings: list[Finding] = []
    pages = fragments_read = 0
    while queue and pages < MAX_PAGES:
        url, source = queue.popleft()
        headers = {}
        if url.startswith(HX_MARK):
            url, headers = url[len(HX_MARK) :], {"HTTP_HX_REQUEST": "true"}
            fragments_read += 1
        key = _route_key(url)
        if key is None:
            findings.append(Finding(username, url, "无此页面(没有对应的视图)", source))
            continue
        per_route[key] = per_route.get(key, 0) + 1
        if per_route[key] > PER_ROUTE:
            continue
        try:
            response = client.get(url, **headers)
        except Exception as exc:  # the view raised: a 500 for the person
            findings.append(Finding(username, url, f"出错 {type(exc).__name__}: {exc}", source))
            continue
        pages += 1
        if response.status_code in (301, 302, 303, 307, 308):
            target = urljoin(url, response["Location"])
            parts = urlsplit(target)
            if not parts.netloc or parts.netloc == "testserver":
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                if target not in seen and not _skip(parts.path):
                    seen.add(target)
                    queue.append((target, source))
            continue
        if response.status_code >= 400:
            findings.append(Finding(username, url, f"状态 {response.status_code}", source))
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        page = _Page()
        page.feed(response.content.decode())
        for word, around in sorted(english_words("\n".join(page.text), allowed).items()):
            findings.append(Finding(username, url, f"英文「{word}」:…{around}…", source))
        fragments = [f for f in page.fragments if f]
        for href in page.links + fragments:
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https", "") or (
                parts.netloc and parts.netloc != "testserver"
            ):
                continue
            if _skip(parts.path):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if href in fragments and href not in page.links:
                target = HX_MARK + target  # fetched as htmx fetches it
            if target not in seen:
                seen.add(target)
                queue.append((target, url))
    return findings, pages, fragments_read


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Run `yingji demo` once; everything it wrote is rolled back afterwards."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            call_command("demo", stdout=io.StringIO())
            yield
            transaction.set_rollback(True)


@pytest.mark.parametrize("username", ROLE_USERS)
def test_every_page_a_role_can_reach_opens_and_reads_in_chinese(demo, db, username):
    started = time.perf_counter()
    findings, pages, fragments = crawl(username, ALLOWED_WORDS)
    elapsed = time.perf_counter() - started
    print(f"{username}: {pages} pages ({fragments} htmx fragments) in {elapsed:.1f} s")
    assert pages > 10
    assert fragments >= 1  # at least the navigation's badges
    assert not findings, f"{len(findings)} 处问题({username}):\n" + "\n".join(
        str(f) for f in findings
    )


# What each demo role finds waiting on its workbench (issue 22): the sources of
# several modules, from the demo's year of activity and the response under way.
WAITING = {
    "duty": {"response.desk", "alerts.review"},
    "leader": {"response.desk", "workplan.escalated", "risk.listed", "enforcement.case"},
    "supervisor": {"workplan.escalated", "risk.listed", "enforcement.case"},
    "zonghe": {"workplan.report", "workplan.notice"},
    "weihua": {"risk.rectify", "risk.accept"},
    "zhifa": {"enforcement.inspect", "enforcement.publish", "enforcement.case"},
    "jianzai": {"response.cards"},
    "tianhe": {"response.cards", "risk.rectify", "enforcement.lookback_item"},
    "shipai": {"response.cards", "risk.rectify", "enforcement.lookback_item"},
}
FIGURES = ("任务完成", "未结监测事件", "在发预警", "应急响应中")


@pytest.mark.parametrize("username", sorted(WAITING))
def test_each_demo_role_finds_its_work_waiting_across_modules(demo, db, username):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    page = client.get("/").content.decode()
    sources = set(re.findall(r'data-source="([^"]+)"', page))
    assert WAITING[username] <= sources, f"{username} 的工作台缺少 {WAITING[username] - sources}"
    for href in re.findall(r'<a class="button" href="([^"]+)"', page)[:10]:
        assert client.get(href).status_code == 200, href  # one click to act
    leaders = username in ("duty", "leader", "supervisor")
    shown = figures_html(client)  # loaded after the page, as the browser does
    for title in FIGURES:
        assert (f'<span class="figure-title">{title}' in shown) == leaders, title
