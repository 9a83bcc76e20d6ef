"""The top navigation: each module registers its entries from its AppConfig.ready,
so adding a module never edits the shared base template."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavEntry:
    title: str
    url_name: str
    order: int = 100
    staff_only: bool = False


_ENTRIES: dict[str, NavEntry] = {}


def register(title: str, url_name: str, *, order: int = 100, staff_only: bool = False) -> None:
    _ENTRIES[url_name] = NavEntry(title, url_name, order, staff_only)


def entries_for(user) -> list[dict]:
    out = []
    for e in sorted(_ENTRIES.values(), key=lambda e: (e.order, e.title)):
        if e.staff_only and not user.is_staff:
            continue
        try:
            out.append({"title": e.title, "url": reverse(e.url_name)})
        except NoReverseMatch:  # a module registered an entry its URLs do not define
            continue
    return out
