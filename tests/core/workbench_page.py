"""Helpers for tests that read the workbench (工作台, `/`) and the search page
(`/search/?q=`) the way a user does: the items in the order shown, each with its
kind, urgency, deadline, link and button; the figures; the search hits."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

from django.utils import timezone

from tests.workbench_items import figures_html


def freeze(monkeypatch, when: dt.datetime) -> dt.datetime:
    """Make `when` (aware) the platform's now: pages, services and sessions alike."""
    monkeypatch.setattr(timezone, "now", lambda: when)
    return when


def local(*args) -> dt.datetime:
    """An aware datetime in the platform's time zone (Asia/Shanghai)."""
    return timezone.make_aware(dt.datetime(*args))


@dataclass(frozen=True)
class Shown:
    kind: str
    urgency: str  # 紧急 / 已逾期 / 即将到期, "" for an ordinary item
    title: str
    url: str
    detail: str
    deadline: str  # "2022-07-06" (or with the time), "" without one
    action: str
    source: str


_ITEM = re.compile(
    r'<li class="work-item[^"]*" data-source="(?P<source>[^"]*)">(?P<body>.*?)</li>', re.S
)


def _text(pattern: str, body: str) -> str:
    m = re.search(pattern, body, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip() if m else ""


def worklist(client) -> list[Shown]:
    """The items of the logged-in user's workbench, in the order shown."""
    response = client.get("/")
    assert response.status_code == 200
    out = []
    for m in _ITEM.finditer(response.content.decode()):
        body = m.group("body")
        title = re.search(r'<a class="work-title" href="([^"]*)">(.*?)</a>', body, re.S)
        out.append(
            Shown(
                kind=_text(r'<span class="work-kind">(.*?)</span>', body),
                urgency=_text(r'<span class="work-urgency">(.*?)</span>', body),
                title=html.unescape(title.group(2)).strip(),
                url=html.unescape(title.group(1)),
                detail=_text(r'<span class="work-detail">(.*?)</span>', body),
                deadline=_text(r'<span class="work-deadline">期限 (.*?)</span>', body),
                action=_text(r'<a class="button" href="[^"]*">(.*?)</a>', body),
                source=m.group("source"),
            )
        )
    return out


def of(items: list[Shown], prefix: str) -> list[Shown]:
    """The items of one module's sources (source keys starting with `prefix`)."""
    return [i for i in items if i.source.startswith(prefix)]


def figures(client) -> dict[str, tuple[str, str, str]]:
    """The figures on the workbench: title -> (value, detail, link)."""
    page = figures_html(client)
    out = {}
    for m in re.finditer(
        r'<(?:a|div) class="figure[^"]*"(?: href="(?P<url>[^"]*)")?>(?P<body>.*?)</(?:a|div)>',
        page,
        re.S,
    ):
        body = m.group("body")
        title = _text(r'<span class="figure-title">(.*?)</span>', body)
        out[title] = (
            _text(r'<span class="figure-value">(.*?)</span>', body),
            _text(r'<span class="figure-detail">(.*?)</span>', body),
            html.unescape(m.group("url") or ""),
        )
    return out


def search_hits(client, query: str) -> dict[str, list[tuple[str, str, str]]]:
    """The search page's groups: group title -> [(code, title, link)]."""
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    page = response.content.decode()
    out: dict[str, list[tuple[str, str, str]]] = {}
    for group in re.finditer(r'<section class="search-group">(.*?)</section>', page, re.S):
        body = group.group(1)
        name = _text(r"<h2>(.*?)</h2>", body)
        hits = []
        for hit in re.finditer(r'<li><a href="([^"]*)">(.*?)</a>', body, re.S):
            inner = hit.group(2)
            code = _text(r'<span class="code">(.*?)</span>', inner)
            title = html.unescape(re.sub(r'<span class="code">.*?</span>', "", inner)).strip()
            hits.append((code, title, html.unescape(hit.group(1))))
        out[name] = hits
    return out
