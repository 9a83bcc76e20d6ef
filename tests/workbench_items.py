"""Read the workbench (the home page) and the search page as a person sees them:
the items in the order shown, each with its kind, urgency, title, link, deadline
and detail; the leader's figures; the search hits by group."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class ShownItem:
    source: str
    classes: str
    kind: str = ""
    urgency: str = ""
    title: str = ""
    url: str = ""
    detail: str = ""
    deadline: str = ""
    action: str = ""

    @property
    def level(self) -> str:
        return next((c[6:] for c in self.classes.split() if c.startswith("level-")), "")


@dataclass
class ShownFigure:
    title: str = ""
    value: str = ""
    detail: str = ""
    url: str = ""


@dataclass
class Page:
    items: list[ShownItem] = field(default_factory=list)
    figures: list[ShownFigure] = field(default_factory=list)
    hits: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # group → (text, url)


_ITEM_FIELDS = {
    "work-kind": "kind",
    "work-urgency": "urgency",
    "work-title": "title",
    "work-detail": "detail",
    "work-deadline": "deadline",
    "button": "action",
}
_FIGURE_FIELDS = {"figure-title": "title", "figure-value": "value", "figure-detail": "detail"}


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._field: tuple[object, str] | None = None
        self._group: str | None = None
        self._in_h2 = False
        self._hit: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "li" and "work-item" in classes:
            self.page.items.append(ShownItem(a.get("data-source", ""), a.get("class", "")))
            return
        if "figure" in classes:
            self.page.figures.append(ShownFigure(url=a.get("href", "")))
            return
        if tag == "section" and "search-group" in classes:
            self._group = ""
            return
        if tag == "h2" and self._group == "":
            self._in_h2 = True
            return
        if tag == "a" and self._group and "button" not in classes:
            self._hit = ["", a.get("href", "")]
            return
        for cls in classes:
            if cls in _ITEM_FIELDS and self.page.items:
                item = self.page.items[-1]
                self._field = (item, _ITEM_FIELDS[cls])
                if cls == "work-title":
                    item.url = a.get("href", "")
            elif cls in _FIGURE_FIELDS and self.page.figures:
                self._field = (self.page.figures[-1], _FIGURE_FIELDS[cls])

    def handle_endtag(self, tag):
        if tag in ("span", "a"):
            self._field = None
        if tag == "h2" and self._in_h2:
            self._in_h2 = False
            self.page.hits.setdefault(self._group, [])
        if tag == "a" and self._hit is not None:
            self.page.hits[self._group].append((self._hit[0].strip(), self._hit[1]))
            self._hit = None
        if tag == "section":
            self._group = None

    def handle_data(self, data):
        if self._in_h2:
            self._group = (self._group or "") + data.strip()
        elif self._hit is not None:
            self._hit[0] += data
        elif self._field is not None:
            obj, name = self._field
            setattr(obj, name, (getattr(obj, name) + data).strip())


def read(html: str | bytes) -> Page:
    if isinstance(html, bytes):
        html = html.decode()
    parser = _Parser()
    parser.feed(html)
    return parser.page


def workbench(client, **filters) -> list[ShownItem]:
    """The items of the home page, in order; `source=` keeps one source's."""
    items = read(client.get("/").content).items
    return [i for i in items if all(getattr(i, k) == v for k, v in filters.items())]


def figures_html(client) -> str:
    """The leader's figures as a browser gets them: the home page's figures section
    names its fragment (hx-get, loaded after the page); "" when the page has none."""
    page = client.get("/").content.decode()
    m = re.search(r'<section class="figures"[^>]*hx-get="([^"]+)"', page)
    if m is None:
        return ""
    response = client.get(html.unescape(m.group(1)), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def figures(client) -> dict[str, ShownFigure]:
    return {f.title: f for f in read(figures_html(client)).figures}


def hits(client, q: str) -> dict[str, list[tuple[str, str]]]:
    response = client.get("/search/", {"q": q})
    assert response.status_code == 200
    return read(response.content).hits
