"""CAP 1.2 validation: the official OASIS schema, then what the schema cannot say.

The schema (shipped as data/CAP-v1.2.xsd) types polygons, circles and most values
as plain strings; the rules below check them: closed rings of at least four
"lat,lon" points within range, circles with a non-negative radius, times with an
offset and no 'Z', restriction/addresses required by the scope, references on
Update/Cancel well-formed and (when a lookup is given) pointing at messages that
exist. Every problem names the element (a path such as
`alert/info[1]/area[2]/polygon[1]`) and the rule it breaks. Pure: no Django.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from yingji.alerts import cap

SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "CAP-v1.2.xsd"

# (sender, identifier) -> does that message exist?
ReferenceLookup = Callable[[str, str], bool]


@dataclass(frozen=True)
class Problem:
    """One validation error: where, which rule, what was found."""

    element: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.element}: [{self.rule}] {self.message}"


@functools.cache
def schema() -> etree.XMLSchema:
    """The official CAP 1.2 schema (loaded once; it imports nothing over the network)."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), cap.safe_parser()))


def _schema_problems(el: etree._Element) -> list[Problem]:
    if etree.QName(el).namespace != cap.NS:
        return [
            Problem(
                "alert",
                "schema:namespace",
                f"命名空间应为 {cap.NS},实为 {etree.QName(el).namespace or '无'}",
            )
        ]
    xsd = schema()
    if xsd.validate(etree.ElementTree(el)):
        return []
    tree = etree.ElementTree(el)
    problems = []
    for err in xsd.error_log:
        nodes = tree.xpath(err.path) if err.path else []
        path = element_path(nodes[0]) if nodes else "alert"
        message = err.message.replace("{" + cap.NS + "}", "")
        problems.append(Problem(path, "schema", message))
    return problems


def element_path(el: etree._Element) -> str:
    """'alert/info[1]/area[2]' for an element of a CAP document (1-based, per name)."""
    parts = []
    while el is not None and isinstance(el.tag, str):
        name = etree.QName(el).localname
        parent = el.getparent()
        if parent is None or name == "alert":
            parts.append(name)
            break
        same = [c for c in parent if isinstance(c.tag, str) and etree.QName(c).localname == name]
        parts.append(f"{name}[{same.index(el) + 1}]" if len(same) > 1 or name in _INDEXED else name)
        el = parent
    return "/".join(reversed(parts))


_INDEXED = {"info", "area", "polygon", "circle", "resource"}


def validate_element(
    el: etree._Element, *, references_exist: ReferenceLookup | None = None
) -> list[Problem]:
    """Every problem of one <alert> element: schema first, then the platform's rules."""
    problems = _schema_problems(el)
    problems += validate_alert(cap.alert_from_element(el), references_exist=references_exist)
    return problems


def validate(
    data: bytes | str, *, references_exist: ReferenceLookup | None = None
) -> list[Problem]:
    """Validate a document holding one or more alerts; [] when all is well.
    Unsafe or unreadable documents give one problem with rule "xml"."""
    try:
        root = cap.read_xml(data)
    except cap.CapError as exc:
        return [Problem("document", "xml", str(exc))]
    elements = cap.alert_elements(root)
    if not elements:
        return [Problem("document", "cap:alert", "文档中没有 CAP 1.2 <alert> 元素")]
    problems = []
    for n, el in enumerate(elements, 1):
        found = validate_element(el, references_exist=references_exist)
        if len(elements) > 1:
            found = [Problem(f"[{n}]{p.element}", p.rule, p.message) for p in found]
        problems += found
    return problems


_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")


def _check_time(path: str, value: str, out: list[Problem]) -> None:
    if not value:
        return
    if value.endswith("Z") or "z" in value[-1:]:
        out.append(Problem(path, "time:no-Z", f"不得使用“Z”表示 UTC,应写作 -00:00:{value}"))
    elif not _TIME.match(value):
        out.append(
            Problem(path, "time:format", f"应为 YYYY-MM-DDThh:mm:ss±hh:mm(不含小数秒):{value}")
        )
    else:
        try:
            cap.parse_time(value)
        except ValueError:
            out.append(Problem(path, "time:format", f"不是有效的日期时间:{value}"))


def _check_point(path: str, lat: float, lon: float, out: list[Problem]) -> None:
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        out.append(Problem(path, "coord:lat-range", f"纬度 {lat} 超出 -90…90(应为“纬度,经度”顺序)"))
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        out.append(Problem(path, "coord:lon-range", f"经度 {lon} 超出 -180…180"))


def _check_polygon(path: str, text: str, out: list[Problem]) -> None:
    try:
        points = cap.polygon_points(text)
    except ValueError as exc:
        out.append(Problem(path, "polygon:format", str(exc)))
        return
    if len(points) < 4:
        out.append(
            Problem(path, "polygon:min-points", f"多边形至少 4 个坐标对,实为 {len(points)} 个")
        )
    if points and points[0] != points[-1]:
        out.append(Problem(path, "polygon:closed", "多边形首尾坐标必须相同(闭合)"))
    for lat, lon in points:
        before = len(out)
        _check_point(path, lat, lon, out)
        if len(out) > before:
            break  # one bad pair is enough to name the rule; 1,000 copies help nobody


def _check_circle(path: str, text: str, out: list[Problem]) -> None:
    try:
        lat, lon, radius = cap.circle_parts(text)
    except ValueError:
        out.append(Problem(path, "circle:format", f"圆应为“纬度,经度 半径(千米)”:{text!r}"))
        return
    _check_point(path, lat, lon, out)
    if not (math.isfinite(radius) and radius >= 0):
        out.append(Problem(path, "circle:radius", f"半径应为非负千米数:{radius}"))


def validate_alert(
    alert: cap.Alert, *, references_exist: ReferenceLookup | None = None
) -> list[Problem]:
    """The rules the schema cannot express (run on the parsed model)."""
    out: list[Problem] = []
    _check_time("alert/sent", alert.sent, out)
    if alert.scope == "Restricted" and not alert.restriction:
        out.append(
            Problem(
                "alert/restriction",
                "scope:restriction",
                "scope 为 Restricted 时必须填写 restriction",
            )
        )
    if alert.scope == "Private" and not alert.addresses:
        out.append(
            Problem("alert/addresses", "scope:addresses", "scope 为 Private 时必须填写 addresses")
        )
    if alert.msg_type in ("Update", "Cancel", "Ack", "Error") and not alert.references:
        out.append(
            Problem(
                "alert/references",
                "references:required",
                f"msgType 为 {alert.msg_type} 时必须引用先前的消息",
            )
        )
    if alert.references:
        try:
            refs = cap.parse_references(alert.references)
        except ValueError as exc:
            out.append(Problem("alert/references", "references:format", str(exc)))
            refs = []
        for sender, identifier, sent in refs:
            _check_time("alert/references", sent, out)
            if (sender, identifier) == (alert.sender, alert.identifier):
                out.append(Problem("alert/references", "references:self", "消息不能引用自身"))
            elif references_exist is not None and not references_exist(sender, identifier):
                out.append(
                    Problem(
                        "alert/references",
                        "references:exist",
                        f"引用的消息不存在:{sender},{identifier}",
                    )
                )
    for i, info in enumerate(alert.infos, 1):
        ipath = f"alert/info[{i}]"
        for name in ("effective", "onset", "expires"):
            _check_time(f"{ipath}/{name}", getattr(info, name), out)
        if (
            info.effective
            and info.expires
            and not any(p.element.startswith(ipath + "/e") for p in out)
        ):
            if cap.parse_time(info.expires) <= cap.parse_time(info.effective):
                out.append(Problem(f"{ipath}/expires", "time:order", "失效时间应晚于生效时间"))
        for j, area in enumerate(info.areas, 1):
            apath = f"{ipath}/area[{j}]"
            for k, poly in enumerate(area.polygons, 1):
                _check_polygon(f"{apath}/polygon[{k}]", poly, out)
            for k, circle in enumerate(area.circles, 1):
                _check_circle(f"{apath}/circle[{k}]", circle, out)
            if area.ceiling and not area.altitude:
                out.append(
                    Problem(
                        f"{apath}/ceiling", "area:ceiling", "只有给出 altitude 时才可给出 ceiling"
                    )
                )
    return out
