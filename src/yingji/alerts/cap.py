"""CAP 1.2 (OASIS Common Alerting Protocol): the message model, the builder and
the parser. Pure: no Django.

The model keeps every value as CAP writes it (strings, times as
"YYYY-MM-DDThh:mm:ss+08:00", polygons as "lat,lon lat,lon …") so that a message
read and written again is the same message; helpers turn polygons, circles and
times into numbers where the platform needs them. Checking values is the
validator's job (`capvalidate`), not the parser's: the parser reads what other
agencies send and reports only what it cannot read at all.

Reading is safe by construction: no DTD is loaded, no entity is resolved, no
network is touched, and a document that declares a DTD (the vehicle of entity
expansion and external entity attacks) is refused before anything is read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

NS = "urn:oasis:names:tc:emergency:cap:1.2"
NS_11 = "urn:oasis:names:tc:emergency:cap:1.1"  # read (older agencies' feeds), never written
_Q = "{" + NS + "}"

STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)
RESPONSE_TYPES = (
    "Shelter",
    "Evacuate",
    "Prepare",
    "Execute",
    "Avoid",
    "Monitor",
    "Assess",
    "AllClear",
    "None",
)
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")

Pair = tuple[str, str]  # valueName, value (eventCode, parameter, geocode)


class CapError(ValueError):
    """A document that cannot be read as CAP at all (not XML, a DTD, no alert)."""


@dataclass
class Resource:
    resource_desc: str
    mime_type: str
    size: str = ""
    uri: str = ""
    deref_uri: str = ""
    digest: str = ""


@dataclass
class Area:
    area_desc: str
    polygons: list[str] = field(default_factory=list)
    circles: list[str] = field(default_factory=list)
    geocodes: list[Pair] = field(default_factory=list)
    altitude: str = ""
    ceiling: str = ""


@dataclass
class Info:
    event: str
    urgency: str
    severity: str
    certainty: str
    categories: list[str] = field(default_factory=lambda: ["Met"])
    language: str = ""
    response_types: list[str] = field(default_factory=list)
    audience: str = ""
    event_codes: list[Pair] = field(default_factory=list)
    effective: str = ""
    onset: str = ""
    expires: str = ""
    sender_name: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    web: str = ""
    contact: str = ""
    parameters: list[Pair] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)


@dataclass
class Alert:
    identifier: str
    sender: str
    sent: str
    status: str = "Actual"
    msg_type: str = "Alert"
    scope: str = "Public"
    source: str = ""
    restriction: str = ""
    addresses: str = ""
    codes: list[str] = field(default_factory=list)
    note: str = ""
    references: str = ""
    incidents: str = ""
    infos: list[Info] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (for `yingji cap parse --json` and the API)."""
        return dataclasses.asdict(self)

    def reference_list(self) -> list[tuple[str, str, str]]:
        """The references as (sender, identifier, sent) triples."""
        return parse_references(self.references)


# ----------------------------------------------------------------- value helpers


def format_time(moment: dt.datetime) -> str:
    """A CAP time: seconds, an explicit offset, never 'Z' (UTC is written -00:00)."""
    if moment.tzinfo is None:
        raise ValueError("CAP 时间必须带时区")
    text = moment.replace(microsecond=0).isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")


def parse_time(text: str) -> dt.datetime:
    """A CAP time string as an aware datetime; ValueError if not in CAP form."""
    if not _TIME_RE.match(text or ""):
        raise ValueError(f"不是 CAP 时间格式(YYYY-MM-DDThh:mm:ss±hh:mm):{text!r}")
    return dt.datetime.fromisoformat(text)


def polygon_points(text: str) -> list[tuple[float, float]]:
    """'lat,lon lat,lon …' → [(lat, lon), …]; ValueError on a malformed pair."""
    points = []
    for pair in text.split():
        lat, sep, lon = pair.partition(",")
        if not sep:
            raise ValueError(f"坐标对应为“纬度,经度”:{pair!r}")
        points.append((float(lat), float(lon)))
    return points


def format_polygon(points: list[tuple[float, float]]) -> str:
    """[(lat, lon), …] → 'lat,lon …' closed (first point repeated at the end)."""
    if points and points[0] != points[-1]:
        points = [*points, points[0]]
    return " ".join(f"{lat:.6f},{lon:.6f}".replace(".000000", ".0") for lat, lon in points)


def circle_parts(text: str) -> tuple[float, float, float]:
    """'lat,lon radius_km' → (lat, lon, radius_km); ValueError if malformed."""
    centre, _, radius = text.strip().partition(" ")
    ((lat, lon),) = polygon_points(centre)
    return lat, lon, float(radius)


def parse_references(text: str) -> list[tuple[str, str, str]]:
    """'sender,identifier,sent sender,identifier,sent' → triples (ValueError if a
    reference has not exactly three parts)."""
    refs = []
    for item in (text or "").split():
        parts = item.split(",")
        if len(parts) != 3:
            raise ValueError(f"引用应为“发送者,标识符,发送时间”:{item!r}")
        refs.append((parts[0], parts[1], parts[2]))
    return refs


def format_references(refs: list[tuple[str, str, str]]) -> str:
    return " ".join(",".join(r) for r in refs)


# ----------------------------------------------------------------------- builder


def _sub(parent: etree._Element, name: str, text: str) -> None:
    if text:
        etree.SubElement(parent, _Q + name).text = text


def _pairs(parent: etree._Element, name: str, pairs: list[Pair]) -> None:
    for key, value in pairs:
        el = etree.SubElement(parent, _Q + name)
        etree.SubElement(el, _Q + "valueName").text = key
        etree.SubElement(el, _Q + "value").text = value


def to_element(alert: Alert) -> etree._Element:
    """The alert as an lxml element, children in the schema's order."""
    root = etree.Element(_Q + "alert", nsmap={None: NS})
    for name, value in (
        ("identifier", alert.identifier),
        ("sender", alert.sender),
        ("sent", alert.sent),
        ("status", alert.status),
        ("msgType", alert.msg_type),
        ("source", alert.source),
        ("scope", alert.scope),
        ("restriction", alert.restriction),
        ("addresses", alert.addresses),
    ):
        _sub(root, name, value)
    for code in alert.codes:
        etree.SubElement(root, _Q + "code").text = code
    for name, value in (
        ("note", alert.note),
        ("references", alert.references),
        ("incidents", alert.incidents),
    ):
        _sub(root, name, value)
    for info in alert.infos:
        el = etree.SubElement(root, _Q + "info")
        _sub(el, "language", info.language)
        for cat in info.categories:
            etree.SubElement(el, _Q + "category").text = cat
        _sub(el, "event", info.event)
        for rt in info.response_types:
            etree.SubElement(el, _Q + "responseType").text = rt
        for name, value in (
            ("urgency", info.urgency),
            ("severity", info.severity),
            ("certainty", info.certainty),
            ("audience", info.audience),
        ):
            _sub(el, name, value)
        _pairs(el, "eventCode", info.event_codes)
        for name in (
            "effective",
            "onset",
            "expires",
            "sender_name",
            "headline",
            "description",
            "instruction",
            "web",
            "contact",
        ):
            _sub(el, _camel(name), getattr(info, name))
        _pairs(el, "parameter", info.parameters)
        for res in info.resources:
            r = etree.SubElement(el, _Q + "resource")
            for name in ("resource_desc", "mime_type", "size", "uri", "deref_uri", "digest"):
                _sub(r, _camel(name), getattr(res, name))
        for area in info.areas:
            a = etree.SubElement(el, _Q + "area")
            _sub(a, "areaDesc", area.area_desc)
            for poly in area.polygons:
                etree.SubElement(a, _Q + "polygon").text = poly
            for circle in area.circles:
                etree.SubElement(a, _Q + "circle").text = circle
            _pairs(a, "geocode", area.geocodes)
            _sub(a, "altitude", area.altitude)
            _sub(a, "ceiling", area.ceiling)
    return root


def to_xml(alert: Alert) -> bytes:
    """The alert as a UTF-8 CAP 1.2 document."""
    return etree.tostring(
        to_element(alert), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.upper() if p == "uri" else p.capitalize() for p in rest)


# ------------------------------------------------------------------------ parser


def safe_parser() -> etree.XMLParser:
    """An XML parser that loads no DTD, resolves no entity and never opens a URL."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
    )


def read_xml(data: bytes | str, max_bytes: int | None = None) -> etree._Element:
    """Parse untrusted XML bytes safely; CapError for malformed XML, any DTD, or a
    document larger than `max_bytes` (refused unread). libxml2's own limits stay
    on (no huge_tree: depth 256, text nodes up to 10 MB)."""
    if max_bytes is not None and len(data) > max_bytes:
        raise CapError(f"CAP 文档过大:{len(data):,} 字节,上限 {max_bytes:,} 字节")
    if isinstance(data, str):
        data = (
            data.encode("utf-8")
            if not data.lstrip().startswith("<?xml")
            else re.sub(r"^\s*<\?xml[^>]*\?>", "", data).encode("utf-8")
        )
    try:
        tree = etree.fromstring(data, safe_parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise CapError(f"XML 格式错误:{exc}") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        # A DTD is how entity-expansion and external-entity attacks arrive; CAP needs none.
        raise CapError("拒绝处理:文档声明了 DTD(<!DOCTYPE>),CAP 消息不得包含 DTD 或实体")
    for node in tree.iter():
        if isinstance(node, etree._Entity):
            raise CapError("拒绝处理:文档引用了实体")
    return tree.getroot()


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _ns(el: etree._Element) -> str:
    return etree.QName(el).namespace or ""


def _text(el: etree._Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if _local(c) == name]


def _child_text(el: etree._Element, name: str) -> str:
    found = _children(el, name)
    return _text(found[0]) if found else ""


def _pairs_of(el: etree._Element, name: str) -> list[Pair]:
    return [(_child_text(p, "valueName"), _child_text(p, "value")) for p in _children(el, name)]


def alert_from_element(el: etree._Element) -> Alert:
    """An <alert> element (CAP 1.2, or 1.1 read leniently) as an Alert."""
    infos = []
    for i in _children(el, "info"):
        infos.append(
            Info(
                language=_child_text(i, "language"),
                categories=[_text(c) for c in _children(i, "category")],
                event=_child_text(i, "event"),
                response_types=[_text(c) for c in _children(i, "responseType")],
                urgency=_child_text(i, "urgency"),
                severity=_child_text(i, "severity"),
                certainty=_child_text(i, "certainty"),
                audience=_child_text(i, "audience"),
                event_codes=_pairs_of(i, "eventCode"),
                effective=_child_text(i, "effective"),
                onset=_child_text(i, "onset"),
                expires=_child_text(i, "expires"),
                sender_name=_child_text(i, "senderName"),
                headline=_child_text(i, "headline"),
                description=_child_text(i, "description"),
                instruction=_child_text(i, "instruction"),
                web=_child_text(i, "web"),
                contact=_child_text(i, "contact"),
                parameters=_pairs_of(i, "parameter"),
                resources=[
                    Resource(
                        resource_desc=_child_text(r, "resourceDesc"),
                        mime_type=_child_text(r, "mimeType"),
                        size=_child_text(r, "size"),
                        uri=_child_text(r, "uri"),
                        deref_uri=_child_text(r, "derefUri"),
                        digest=_child_text(r, "digest"),
                    )
                    for r in _children(i, "resource")
                ],
                areas=[
                    Area(
                        area_desc=_child_text(a, "areaDesc"),
                        polygons=[_text(p) for p in _children(a, "polygon")],
                        circles=[_text(c) for c in _children(a, "circle")],
                        geocodes=_pairs_of(a, "geocode"),
                        altitude=_child_text(a, "altitude"),
                        ceiling=_child_text(a, "ceiling"),
                    )
                    for a in _children(i, "area")
                ],
            )
        )
    return Alert(
        identifier=_child_text(el, "identifier"),
        sender=_child_text(el, "sender"),
        sent=_child_text(el, "sent"),
        status=_child_text(el, "status"),
        msg_type=_child_text(el, "msgType"),
        source=_child_text(el, "source"),
        scope=_child_text(el, "scope"),
        restriction=_child_text(el, "restriction"),
        addresses=_child_text(el, "addresses"),
        codes=[_text(c) for c in _children(el, "code")],
        note=_child_text(el, "note"),
        references=_child_text(el, "references"),
        incidents=_child_text(el, "incidents"),
        infos=infos,
    )


def alert_elements(root: etree._Element) -> list[etree._Element]:
    """Every CAP <alert> in a document: the root itself, or those inside an
    envelope (EDXL-DE contentObject, Atom/RSS feed entries, any wrapper)."""
    if _local(root) == "alert" and _ns(root) in (NS, NS_11):
        return [root]
    return [
        el
        for el in root.iter()
        if isinstance(el.tag, str) and _local(el) == "alert" and _ns(el) in (NS, NS_11)
    ]


def parse(data: bytes | str) -> list[Alert]:
    """Read every CAP alert in a document (a single alert, an EDXL-DE envelope or a
    feed). CapError if the document is unsafe, not XML, or holds no CAP alert."""
    root = read_xml(data)
    found = alert_elements(root)
    if not found:
        raise CapError(f"文档中没有 CAP 1.2 <alert> 元素(根元素为 <{_local(root)}>)")
    return [alert_from_element(el) for el in found]


def parse_one(data: bytes | str) -> Alert:
    """Exactly one alert; CapError otherwise."""
    alerts = parse(data)
    if len(alerts) != 1:
        raise CapError(f"应只有一条 CAP 预警,实有 {len(alerts)} 条")
    return alerts[0]
