"""The navigation: a side menu of groups, each module registering its entries
(and, for a new area of work, its group) from its AppConfig.ready, so adding a
module never edits the shared base template.

    nav.register("隐患台账", "risk:hazards", group="risk", order=21)
    nav.register("值班台", "response:desk", group="command", roles=nav.DESK_ROLES)

An entry shows only to the users who may open it: `roles` (profile roles; a
superuser passes), `staff_only`, or a `visible(user, role)` predicate. The
crawl test (tests/core/test_crawl.py) opens every entry as every demo role, so
an entry that would answer 403 fails the build.

The group keys are also the workbench's (core/workbench.py): the badge beside a
group counts the items of that group waiting for the user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavGroup:
    key: str
    title: str
    order: int


@dataclass(frozen=True)
class NavEntry:
    title: str
    url_name: str
    group: str
    order: int = 100
    staff_only: bool = False
    roles: frozenset[str] | None = None
    visible: Callable[[object, str | None], bool] | None = None


# The areas of work, in the bureau's order; later modules add theirs with
# register_group (e.g. 减灾救灾 is registered here so its place is fixed).
_GROUPS: dict[str, NavGroup] = {}
_ENTRIES: dict[str, NavEntry] = {}

# Who runs the duty desk and the command centre.
DESK_ROLES = frozenset({"duty_officer", "leader", "supervisor", "admin"})
# Who sees the whole city (a leader's figures, the command screen).
CITY_ROLES = frozenset({"duty_officer", "leader", "supervisor", "admin"})


def register_group(key: str, title: str, *, order: int = 100) -> None:
    _GROUPS[key] = NavGroup(key, title, order)


for _key, _title, _order in (
    ("overview", "综合", 0),
    ("supervision", "督查督办", 10),
    ("risk", "风险防控", 20),
    ("monitoring", "监测预警", 30),
    ("command", "指挥调度", 40),
    ("enforcement", "执法监督", 50),
    ("reduction", "减灾救灾", 60),
    ("system", "系统管理", 900),
):
    register_group(_key, _title, order=_order)


def register(
    title: str,
    url_name: str,
    *,
    group: str = "overview",
    order: int = 100,
    staff_only: bool = False,
    roles: frozenset[str] | set[str] | None = None,
    visible: Callable[[object, str | None], bool] | None = None,
) -> None:
    _ENTRIES[url_name] = NavEntry(
        title,
        url_name,
        group,
        order,
        staff_only,
        frozenset(roles) if roles is not None else None,
        visible,
    )


def role_of(user) -> str | None:
    profile = getattr(user, "profile", None) if user is not None else None
    try:
        return profile.role if profile is not None else None
    except Exception:  # noqa: BLE001 - a missing profile row
        return None


def _shows(entry: NavEntry, user, role: str | None) -> bool:
    superuser = bool(getattr(user, "is_superuser", False))
    if entry.staff_only and not getattr(user, "is_staff", False):
        return False
    if entry.roles is not None and not superuser and role not in entry.roles:
        return False
    return entry.visible is None or entry.visible(user, role)


def entries_for(user) -> list[dict]:
    """The entries `user` may open, flat, in menu order."""
    return [e for g in groups_for(user) for e in g["entries"]]


def groups_for(user, current_path: str = "") -> list[dict]:
    """The menu for `user`: groups (in order) with the entries they may open; a
    group with none is left out. `current` marks the entry whose URL is the
    longest prefix of `current_path`."""
    role = role_of(user)
    by_group: dict[str, list[dict]] = {}
    for e in sorted(_ENTRIES.values(), key=lambda e: (e.order, e.title)):
        if not _shows(e, user, role):
            continue
        try:
            url = reverse(e.url_name)
        except NoReverseMatch:  # a module registered an entry its URLs do not define
            continue
        by_group.setdefault(e.group, []).append({"title": e.title, "url": url, "current": False})
    best = None
    for entries in by_group.values():
        for entry in entries:
            url = entry["url"]
            matches = current_path == url if url == "/" else current_path.startswith(url)
            if matches and (best is None or len(url) > len(best["url"])):
                best = entry
    if best is not None:
        best["current"] = True
    out = []
    for key, entries in sorted(
        by_group.items(),
        key=lambda kv: (_GROUPS[kv[0]].order if kv[0] in _GROUPS else 500, kv[0]),
    ):
        group = _GROUPS.get(key) or NavGroup(key, key, 500)
        out.append(
            {
                "key": key,
                "title": group.title,
                "entries": entries,
                "current": any(e["current"] for e in entries),
            }
        )
    return out
