"""Every API write refuses a user aiming outside their scope (issue 13).

The list of write operations (POST, PUT, PATCH, DELETE) comes from the OpenAPI
schema, so a new endpoint is covered automatically: the test fails until PROBES
has a probe for it. Each probe is a request by 天河区 staff (`th`) at another
district's record (番禺, or 白云 and 越秀 for the ledgers) of tests/scope_world.py,
or, where the operation has no district, by a user without the right. The
request must be refused (the status listed, never a 2xx or a 5xx) and the
database must be exactly as before (every table of every module, row by row).

A probe names a `control` user who may make the same request: it is made too
(and rolled back) and must succeed, which shows that the refusal comes from the
scope and not from a malformed request.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone

from tests.scope_world import BAIYUN, PANYU, POINTS, TIANHE, YUEXIU, World
from yingji.risk import creditcode

WRITES = ("post", "put", "patch", "delete")
# Tables that are machinery or static for these tests (sessions change with every
# login; regions are the loaded pack).
UNCHECKED = {
    "sessions.session",
    "admin.logentry",
    "contenttypes.contenttype",
    "auth.permission",
    "core.region",
}


def write_operations() -> list[str]:
    from yingji.api import api

    schema = api.get_openapi_schema()
    return sorted(
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in WRITES
    )


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table (but UNCHECKED), in primary-key order."""
    return {
        m._meta.label_lower: list(m._default_manager.order_by("pk").values_list())
        for m in apps.get_models()
        if m._meta.label_lower not in UNCHECKED and m._meta.managed
    }


def changes(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]


def xlsx(sheet: str, rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def enterprise_ledger(w: World) -> dict:
    """One row: 白云's enterprise under a new name (天河's user may not touch it)."""
    e = w.enterprises[BAIYUN]
    return {
        "file": SimpleUploadedFile(
            "企业.xlsx",
            xlsx(
                "企业名录",
                [["统一社会信用代码", "单位名称", "行业代码"], [e.credit_code, "改名", "2614"]],
            ),
        )
    }


def hazard_ledger(w: World) -> dict:
    """One row: 越秀's hazard with a new description."""
    h = w.hazards[YUEXIU]
    return {
        "file": SimpleUploadedFile(
            "隐患.xlsx",
            xlsx(
                "隐患台账",
                [
                    ["隐患编号", "统一社会信用代码", "隐患等级", "来源", "隐患描述", "发现日期"],
                    [
                        h.code,
                        h.enterprise.credit_code,
                        "重大事故隐患",
                        "企业自查",
                        "改写",
                        "2025-03-03",
                    ],
                ],
            ),
        )
    }


def risk_point_ledger(w: World) -> dict:
    """One row: 番禺's risk point re-assessed."""
    p = w["risk_point"]
    return {
        "file": SimpleUploadedFile(
            "风险点.xlsx",
            xlsx(
                "风险点清单",
                [
                    [
                        "风险点编号",
                        "统一社会信用代码",
                        "风险点名称",
                        "评估方法",
                        "L",
                        "C/S",
                        "评估日期",
                    ],
                    [p.code, p.enterprise.credit_code, "番禺罐区", "LS", 5, 5, "2025-04-01"],
                ],
            ),
        )
    }


def task_ledger(w: World) -> dict:
    """The work-plan ledger with 番禺区政府's task at 60%."""
    from openpyxl import load_workbook

    from yingji.workplan import ledger

    data = ledger.export_ledger(w["work_plan"], dt.date(2025, 6, 30))
    book = load_workbook(io.BytesIO(data))
    sheet = book[ledger.SHEET]
    headers = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[headers.index(ledger.ID)].value == w["task"].pk:
            row[headers.index(ledger.PERCENT)].value = 60
            row[headers.index(ledger.TEXT)].value = "已完成六成"
    out = io.BytesIO()
    book.save(out)
    return {"file": SimpleUploadedFile("台账.xlsx", out.getvalue())}


def rule_body(w: World) -> dict:
    return {
        "name": "番禺雨量(改)",
        "sensor_type": "rain",
        "metric": "sum",
        "thresholds": [10, 20, 30, 40],
        "window_s": 3600,
    }


def in_a_day() -> str:
    return (timezone.now() + dt.timedelta(days=1)).isoformat()


@dataclass
class Probe:
    """A request (path parameters, JSON body or multipart files) by `user`, refused
    with one of `refused` (and a body saying `says`, if given)."""

    params: Callable[[World], dict] = lambda w: {}
    body: Callable[[World], Any] | None = None
    files: Callable[[World], dict] | None = None
    user: str = "th"
    refused: frozenset[int] = frozenset({403, 404})
    says: str = ""
    control: str | None = None
    control_status: frozenset[int] = frozenset({200, 201})
    extra: dict = field(default_factory=dict)
    # The record of the refused attempt itself (an import's log), and its audit entries.
    logs: frozenset[str] = frozenset()


P = Probe
F = frozenset
R422 = F({422})
NOT_IN_SCOPE = "不在您的管辖范围"
IMPORT_LOG = F({"risk.ledgerimport"})  # every import is recorded, a refused one too

PROBES: dict[str, list[Probe]] = {
    # ---------------------------------------------------------------- core
    "POST /api/v1/core/departments/suggestions/{suggestion_id}/merge": [
        P(lambda w: {"suggestion_id": w["suggestion"].pk}, control="admin")
    ],
    "POST /api/v1/core/departments/suggestions/{suggestion_id}/dismiss": [
        P(lambda w: {"suggestion_id": w["suggestion"].pk}, control="admin")
    ],
    # ---------------------------------------------------------------- workplan
    "POST /api/v1/workplan/plans/import": [
        P(files=lambda w: {"file": SimpleUploadedFile("要点.txt", "一、总则\n".encode())})
    ],
    "POST /api/v1/workplan/tasks/{task_id}/reports": [
        P(
            lambda w: {"task_id": w["task"].pk},
            lambda w: {"percent": 50, "text": "已完成一半"},
            control="py",
        )
    ],
    "POST /api/v1/workplan/tasks/{task_id}/milestones": [
        P(
            lambda w: {"task_id": w["task"].pk},
            lambda w: {"title": "中期检查", "due": "2025-09-30"},
            control="py",
        )
    ],
    "POST /api/v1/workplan/tasks/{task_id}/pauses": [
        P(lambda w: {"task_id": w["task"].pk}, lambda w: {"reason": "等待批复"})
    ],
    "POST /api/v1/workplan/pauses/{pause_id}/{decision}": [
        P(lambda w: {"pause_id": w["pause"].pk, "decision": "approve"}, control="supervisor")
    ],
    "POST /api/v1/workplan/notices/{notice_id}/respond": [
        P(
            lambda w: {"notice_id": w["notice"].pk},
            lambda w: {"response": "已整改"},
            control="py",
        )
    ],
    "POST /api/v1/workplan/plans/{plan_id}/supervise": [
        P(
            lambda w: {"plan_id": w["work_plan"].pk},
            lambda w: {"as_of": "2025-06-30"},
            control="leader",
        )
    ],
    "POST /api/v1/workplan/plans/{plan_id}/bulletins": [
        P(
            lambda w: {"plan_id": w["work_plan"].pk},
            lambda w: {"period": "monthly", "as_of": "2025-06-30"},
            control="leader",
        )
    ],
    "POST /api/v1/workplan/plans/{plan_id}/ledger": [
        P(
            lambda w: {"plan_id": w["work_plan"].pk},
            files=task_ledger,
            refused=F({400}),
            says="不是第1项任务的牵头单位",
            control="py",
        )
    ],
    # ---------------------------------------------------------------- risk
    "POST /api/v1/risk/enterprises": [
        P(
            body=lambda w: {
                "credit_code": w.enterprises[PANYU].credit_code,
                "name": "天河改名公司",
                "industry_code": "C2614",
                "lon": POINTS[TIANHE][0],
                "lat": POINTS[TIANHE][1],
            },
            refused=F({403}),
            says="属番禺区,不在您的管辖范围",
            control="py",
            extra={"control_body": {"lon": POINTS[PANYU][0], "lat": POINTS[PANYU][1]}},
        ),
        # a new enterprise located in 番禺 is not 天河's to register either
        P(
            body=lambda w: {
                "credit_code": creditcode.make("91440113", 903),
                "name": "新设公司",
                "industry_code": "C2614",
                "lon": POINTS[PANYU][0],
                "lat": POINTS[PANYU][1],
            },
            refused=F({403}),
            says="属番禺区,不在您的管辖范围",
            control="py",
        ),
    ],
    "POST /api/v1/risk/risk-points/{point_id}/assessments": [
        P(
            lambda w: {"point_id": w["risk_point"].pk},
            lambda w: {"method": "ls", "likelihood": 4, "consequence": 4},
            control="py",
        )
    ],
    "POST /api/v1/risk/hazards": [
        P(
            body=lambda w: {
                "credit_code": w.enterprises[PANYU].credit_code,
                "description": "越权上报",
                "source": "public_report",
            },
            refused=R422,
            says=NOT_IN_SCOPE,
            control="py",
        ),
        # a new hazard never takes over another district's hazard code
        P(
            body=lambda w: {
                "credit_code": w.enterprises[TIANHE].credit_code,
                "description": "借用编号",
                "source": "public_report",
                "code": w.hazards[PANYU].code,
            },
            refused=R422,
            says="已存在",
        ),
    ],
    "POST /api/v1/risk/hazards/{hazard_id}/transitions": [
        P(lambda w: {"hazard_id": w.hazards[PANYU].pk}, lambda w: {"action": "assign"})
    ],
    "PUT /api/v1/risk/hazards/{hazard_id}/plan": [
        P(
            lambda w: {"hazard_id": w.hazards[PANYU].pk},
            lambda w: {"goals": "消除泄漏", "measures": "更换报警器"},
            control="py",
        )
    ],
    "POST /api/v1/risk/hazards/{hazard_id}/listing": [
        P(lambda w: {"hazard_id": w.hazards[PANYU].pk}, control="weihua")
    ],
    "POST /api/v1/risk/hazards/{hazard_id}/evidence": [
        P(
            lambda w: {"hazard_id": w.hazards[PANYU].pk},
            files=lambda w: {"file": SimpleUploadedFile("现场.txt", b"photo"), "kind": "found"},
        )
    ],
    "POST /api/v1/risk/accidents": [
        P(
            body=lambda w: {
                "code": w.accidents[PANYU].code,
                "occurred_at": "2025-02-10T09:00:00+08:00",
                "accident_type": "fall",
                "deaths": 0,
            },
            refused=F({403}),
            says="事故编号 SG-440113 的事故属番禺区,不在您的管辖范围",
            control="py",
            extra={"control_body": {"credit_code": "914401130000000025"}},
        ),
        # nor may an accident be tied to an enterprise 天河 cannot see
        P(
            body=lambda w: {
                "code": "SG-NEW",
                "occurred_at": "2025-02-10T09:00:00+08:00",
                "accident_type": "fall",
                "credit_code": w.enterprises[PANYU].credit_code,
            },
            refused=R422,
            says=NOT_IN_SCOPE,
        ),
    ],
    "POST /api/v1/risk/ledgers/{kind}": [
        P(
            lambda w: {"kind": "enterprises"},
            files=enterprise_ledger,
            refused=R422,
            says="属白云区,不在您的管辖范围",
            control="leader",
            logs=IMPORT_LOG,
        ),
        P(
            lambda w: {"kind": "hazards"},
            files=hazard_ledger,
            refused=R422,
            says="属越秀区,不在您的管辖范围",
            control="leader",
            logs=IMPORT_LOG,
        ),
        P(
            lambda w: {"kind": "risk_points"},
            files=risk_point_ledger,
            refused=R422,
            says="属番禺区,不在您的管辖范围",
            control="py",
            logs=IMPORT_LOG,
        ),
    ],
    # ---------------------------------------------------------------- monitoring
    "POST /api/v1/monitoring/ingest": [
        # a session is not a sensor token
        P(
            body=lambda w: [{"sensor": "RG-440113", "ts": timezone.now().isoformat(), "value": 1}],
            refused=F({401}),
        )
    ],
    "POST /api/v1/monitoring/alarms/{alarm_id}/acknowledge": [
        P(lambda w: {"alarm_id": w.alarms[PANYU].pk}, control="py")
    ],
    "POST /api/v1/monitoring/alarms/{alarm_id}/silence": [
        P(
            lambda w: {"alarm_id": w.alarms[PANYU].pk},
            lambda w: {"minutes": 30, "reason": "设备检修"},
            control="py",
        )
    ],
    "POST /api/v1/monitoring/rules": [P(body=rule_body, control="leader")],
    "PUT /api/v1/monitoring/rules/{rule_id}": [
        P(lambda w: {"rule_id": w["rule"].pk}, rule_body, control="leader")
    ],
    "POST /api/v1/monitoring/rules/dry-run": [
        # reads only: another district's sensor is unknown to 天河
        P(
            body=lambda w: {
                "name": "试运行",
                "sensor_codes": ["RG-440113"],
                "metric": "sum",
                "thresholds": [10, 20, 30, 40],
                "window_s": 3600,
            },
            refused=R422,
            says=NOT_IN_SCOPE,
            control="py",
        )
    ],
    # ---------------------------------------------------------------- alerts
    "POST /api/v1/alerts/": [
        P(
            body=lambda w: {
                "hazard": "rainstorm",
                "colour": "yellow",
                "description": "番禺区将出现暴雨。",
                "areas": [{"region_code": PANYU}],
                "expires": in_a_day(),
            },
            refused=F({403}),
            says="预警区域“番禺区”不在您的管辖范围",
            control="py",
        ),
        P(
            body=lambda w: {
                "hazard": "rainstorm",
                "colour": "yellow",
                "description": "番禺区将出现暴雨。",
                "areas": [{"circle": [POINTS[PANYU][1], POINTS[PANYU][0], 3]}],
                "expires": in_a_day(),
            },
            refused=F({403}),
            says=NOT_IN_SCOPE,
            control="py",
        ),
    ],
    "POST /api/v1/alerts/{alert_id}/submit": [
        P(lambda w: {"alert_id": w.alerts["draft"].pk}, control="py")
    ],
    "POST /api/v1/alerts/{alert_id}/approve": [
        P(lambda w: {"alert_id": w.alerts["review"].pk}, control="duty")
    ],
    "POST /api/v1/alerts/{alert_id}/reject": [
        P(lambda w: {"alert_id": w.alerts["review"].pk}, lambda w: {"note": "退回"}, control="duty")
    ],
    "POST /api/v1/alerts/{alert_id}/update": [
        P(
            lambda w: {"alert_id": w.alerts["published"].pk},
            lambda w: {"colour": "orange"},
            says=NOT_IN_SCOPE,
            control="py",
        )
    ],
    "POST /api/v1/alerts/{alert_id}/extend": [
        P(
            lambda w: {"alert_id": w.alerts["published"].pk},
            lambda w: {"until": (timezone.now() + dt.timedelta(days=2)).isoformat()},
            says=NOT_IN_SCOPE,
            control="py",
        )
    ],
    "POST /api/v1/alerts/{alert_id}/cancel": [
        P(
            lambda w: {"alert_id": w.alerts["published"].pk},
            lambda w: {"note": "暴雨已结束"},
            says=NOT_IN_SCOPE,
            control="py",
        )
    ],
    "POST /api/v1/alerts/subscribers/import": [
        P(
            files=lambda w: {
                "file": SimpleUploadedFile(
                    "订阅人.csv",
                    "编号,姓名/单位,手机,区划代码\nS1,张三,13800000000,440113\n".encode(),
                )
            },
            control="duty",
        )
    ],
    "POST /api/v1/alerts/subscribers/locations": [
        P(
            body=lambda w: [
                {
                    "external_id": "S1",
                    "lon": POINTS[PANYU][0],
                    "lat": POINTS[PANYU][1],
                    "at": timezone.now().isoformat(),
                }
            ],
            control="duty",
        )
    ],
    "POST /api/v1/alerts/incoming/{token}": [
        P(lambda w: {"token": "not-a-token"}, body=lambda w: "<alert/>", refused=F({404}))
    ],
    # ---------------------------------------------------------------- response
    "POST /api/v1/response/incidents": [
        P(
            body=lambda w: {
                "title": "番禺区内涝",
                "incident_type": "暴雨",
                "lon": POINTS[PANYU][0],
                "lat": POINTS[PANYU][1],
            },
            control="duty",
        )
    ],
    "POST /api/v1/response/incidents/{incident_id}/reports": [
        P(
            lambda w: {"incident_id": w.incidents[PANYU].pk},
            lambda w: {"text": "续报", "deaths": 0},
            refused=F({404}),
            control="duty",
        )
    ],
    "POST /api/v1/response/incidents/{incident_id}/activations": [
        P(
            lambda w: {"incident_id": w.incidents[PANYU].pk},
            lambda w: {"plan_id": w["plan"].pk, "level": "III"},
            refused=F({404}),
        )
    ],
    "POST /api/v1/response/activations/{activation_id}/level": [
        P(
            lambda w: {"activation_id": w.activations[PANYU].pk},
            lambda w: {"level": "III"},
            refused=F({404}),
            control="duty",
        )
    ],
    "POST /api/v1/response/activations/{activation_id}/stand-down": [
        P(
            lambda w: {"activation_id": w.activations[PANYU].pk},
            refused=F({404}),
            control="duty",
        )
    ],
    "POST /api/v1/response/cards/{card_id}/ack": [
        P(lambda w: {"card_id": w.cards[PANYU].pk}, refused=F({404}), control="duty")
    ],
    "POST /api/v1/response/cards/{card_id}/complete": [
        P(
            lambda w: {"card_id": w.cards[PANYU].pk},
            lambda w: {"result": "已落实"},
            refused=F({404}),
            control="duty",
        )
    ],
    "POST /api/v1/response/desk/{item_id}/stand-down": [
        P(lambda w: {"item_id": w["desk_item"].pk}, control="duty")
    ],
    "POST /api/v1/response/plans": [
        P(
            body=lambda w: {**_plan_structure(w), "title": "番禺区防汛预案(草案)"},
            control="duty",
        )
    ],
    "POST /api/v1/response/incidents/{incident_id}/dispatches": [
        P(
            lambda w: {"incident_id": w.incidents[PANYU].pk},
            lambda w: {"team_id": w["team"].pk, "task": "排涝"},
            refused=F({404}),
        )
    ],
    "POST /api/v1/response/dispatches/{order_id}/state": [
        P(
            lambda w: {"order_id": w["order"].pk},
            lambda w: {"state": "cancelled"},
            refused=F({404}),
            control="duty",
        )
    ],
    "POST /api/v1/response/incidents/{incident_id}/shelters": [
        P(
            lambda w: {"incident_id": w.incidents[PANYU].pk},
            lambda w: {"evacuees": 100},
            refused=F({404}),
            control="duty",
        )
    ],
    "POST /api/v1/response/drills": [
        P(
            body=lambda w: {
                "title": "番禺演练",
                "scenario": [{"kind": "incident", "at": 0, "title": "内涝", "type": "暴雨"}],
                "scheduled_at": in_a_day(),
                "blind": False,
            },
            control="duty",
        )
    ],
    "POST /api/v1/response/drills/{drill_id}/advance": [
        P(lambda w: {"drill_id": w["drill"].pk}, control="duty")
    ],
    "POST /api/v1/response/drills/{drill_id}/finish": [P(lambda w: {"drill_id": w["drill"].pk})],
    # ---------------------------------------------------------------- enforcement
    "POST /api/v1/enforcement/plans": [
        P(
            body=lambda w: {
                "year": 2026,
                "title": "番禺区2026年度计划",
                "department_id": w["gov"][PANYU].pk,
            },
            control="py",
        )
    ],
    "POST /api/v1/enforcement/plans/{plan_id}/seed-source": [
        P(
            lambda w: {"plan_id": w["inspection_plan"].pk},
            lambda w: {"source": "双色球 2025002 期"},
            control="py",
        )
    ],
    "POST /api/v1/enforcement/plans/{plan_id}/seed": [
        P(
            lambda w: {"plan_id": w["inspection_plan"].pk},
            lambda w: {"value": "01 02 03 04 05 06 + 07"},
            control="py",
        )
    ],
    "POST /api/v1/enforcement/plans/{plan_id}/draw": [
        P(lambda w: {"plan_id": w["inspection_plan"].pk})
    ],
    "POST /api/v1/enforcement/plans/{plan_id}/key-date-draws": [
        P(lambda w: {"plan_id": w["inspection_plan"].pk})
    ],
    "POST /api/v1/enforcement/draws/{draw_id}/verify": [
        # open to every staff member (a transparency check); not to an account without a role
        P(lambda w: {"draw_id": w["draw"].pk}, user="nobody")
    ],
    "POST /api/v1/enforcement/inspections/{inspection_id}/record": [
        P(
            lambda w: {"inspection_id": w["inspection"].pk},
            lambda w: {"inspected_on": "2025-03-10", "summary": "现场检查", "findings": []},
            refused=F({404}),
            control="py",
        )
    ],
    "POST /api/v1/enforcement/inspections/{inspection_id}/publish": [
        P(lambda w: {"inspection_id": w["inspection"].pk}, refused=F({404}))
    ],
    "POST /api/v1/enforcement/cases/{case_id}/transitions": [
        P(
            lambda w: {"case_id": w["case"].pk},
            lambda w: {"action": "investigate"},
            refused=F({404}),
        )
    ],
    "POST /api/v1/enforcement/dishonesty": [
        P(
            body=lambda w: {
                "credit_code": w.enterprises[PANYU].credit_code,
                "basis": "拒不执行处罚决定",
                "decided_by_id": w["gov"][PANYU].pk,
                "listed_on": "2025-05-01",
            },
            control="leader",
        )
    ],
    "POST /api/v1/enforcement/dishonesty/{listing_id}/remove": [
        P(
            lambda w: {"listing_id": w["listing"].pk},
            lambda w: {"reason": "信用修复", "on": "2025-06-01"},
            control="leader",
        )
    ],
    "POST /api/v1/enforcement/lookbacks": [
        P(
            body=lambda w: {"accident_code": w.accidents[BAIYUN].code, "reason": "暴露突出问题"},
            control="leader",
        )
    ],
    "PUT /api/v1/enforcement/lookbacks/{case_id}/report": [
        P(
            lambda w: {"case_id": w["lookback"].pk},
            lambda w: {"approved_on": "2025-04-01"},
            refused=F({404}),
            control="leader",
        )
    ],
    "POST /api/v1/enforcement/lookbacks/{case_id}/items": [
        P(
            lambda w: {"case_id": w["lookback"].pk},
            lambda w: {"kind": "measure", "text": "加装报警器", "responsible": "番禺区政府"},
            refused=F({404}),
            control="leader",
        )
    ],
    "POST /api/v1/enforcement/lookbacks/items/{item_id}/progress": [
        P(
            lambda w: {"item_id": w["lookback_item"].pk},
            lambda w: {"status": "in_progress"},
            refused=F({404}),
            control="py",
        )
    ],
    "POST /api/v1/enforcement/lookbacks/{case_id}/transitions": [
        P(
            lambda w: {"case_id": w["lookback"].pk},
            lambda w: {"action": "start"},
            refused=F({404}),
        )
    ],
    "POST /api/v1/enforcement/lookbacks/{case_id}/hazards": [
        P(lambda w: {"case_id": w["lookback"].pk}, refused=F({404}))
    ],
    # ---------------------------------------------------------------- responsibility
    "PUT /api/v1/responsibility/sanfang/objects/{object_id}/{role}": [
        P(
            lambda w: {"object_id": w["duty_object"].pk, "role": "patrol"},
            lambda w: {"name": "周八", "post": "市桥街道巡查员", "phone": "13300133000"},
            refused=F({404}),
            control="py",
        )
    ],
    "POST /api/v1/responsibility/assessment/sheets/{sheet_id}/first": [
        P(lambda w: {"sheet_id": w["sheet"].pk}, lambda w: {"values": {}})
    ],
    "POST /api/v1/responsibility/assessment/sheets/{sheet_id}/check": [
        P(lambda w: {"sheet_id": w["sheet"].pk}, lambda w: {"values": {}})
    ],
    "POST /api/v1/responsibility/assessment/sheets/{sheet_id}/reconcile": [
        P(lambda w: {"sheet_id": w["sheet"].pk}, lambda w: {"values": {}, "reasons": {}})
    ],
    "POST /api/v1/responsibility/assessment/interviews/{iv_id}/hold": [
        P(
            lambda w: {"iv_id": w["interview"].pk},
            lambda w: {
                "held_on": "2026-01-10",
                "attendees": "番禺区区长",
                "problems": "考核排名靠后",
                "deadline": "2026-03-31",
            },
        )
    ],
    "POST /api/v1/responsibility/assessment/interviews/{iv_id}/close": [
        P(
            lambda w: {"iv_id": w["interview"].pk},
            lambda w: {"rectification": "已整改", "closed_on": "2026-03-01"},
        )
    ],
    "POST /api/v1/responsibility/assessment/reviewers/{reviewer_id}/score": [
        P(lambda w: {"reviewer_id": w["reviewer"].pk}, lambda w: {"items": {}, "comment": "好"})
    ],
    "POST /api/v1/responsibility/assessment/reviews/{session_id}/close": [
        P(lambda w: {"session_id": w["review"].pk})
    ],
    "POST /api/v1/responsibility/assessment/reviews/{session_id}/send": [
        P(lambda w: {"session_id": w["review"].pk})
    ],
    "POST /api/v1/responsibility/leaders/items/{item_id}/done": [
        P(
            lambda w: {"item_id": w["duty_item"].pk},
            lambda w: {"done_on": "2025-04-10"},
            refused=F({404}),
            control="py",
        )
    ],
    "POST /api/v1/responsibility/leaders/{leader_id}/patrols": [
        P(
            lambda w: {"leader_id": w["leader"].pk},
            lambda w: {"on": "2025-06-01", "place": "番禺某商场"},
            refused=F({404}),
            control="py",
        )
    ],
    "POST /api/v1/responsibility/letters/{letter_id}/transitions": [
        P(
            lambda w: {"letter_id": w["letter"].pk},
            lambda w: {"action": "issue"},
            refused=F({404}),
            control="leader",
        )
    ],
    "POST /api/v1/responsibility/letters/{letter_id}/sign": [
        P(
            lambda w: {"letter_id": w["letter"].pk},
            files=lambda w: {
                "signed_on": "2025-02-20",
                "signed_by": "某区长",
                "scan": SimpleUploadedFile("责任书.pdf", b"%PDF-1.4\n%%EOF\n"),
            },
            refused=F({404}),
        )
    ],
    "POST /api/v1/responsibility/sanfang/import": [
        P(
            files=lambda w: {
                "file": SimpleUploadedFile(
                    "名册.csv",
                    (
                        "区划,对象类型,责任对象,责任人类别,姓名,单位及职务,手机\n"
                        "市桥街道,内涝点,市桥积水点,巡查责任人,周八,巡查员,13300133000\n"
                    ).encode(),
                )
            },
            refused=R422,
            says="不在本账号范围",
            control="py",
        )
    ],
}


def _plan_structure(w: World) -> dict:
    from yingji.response import plans

    return plans.structure_of(w["plan"])


def send(client: Client, method: str, path: str, probe: Probe, w: World, control: bool = False):
    body = probe.body(w) if probe.body else None
    if control and isinstance(body, dict):
        body = {**body, **probe.extra.get("control_body", {})}
    if probe.files:
        return getattr(client, method.lower())(path, probe.files(w))
    if body is None:
        return getattr(client, method.lower())(path)
    if isinstance(body, str):
        return getattr(client, method.lower())(path, body, content_type="application/xml")
    return getattr(client, method.lower())(path, json.dumps(body), content_type="application/json")


def audited_model(row: tuple) -> str:
    """The model (app.model) an AuditEntry row of snapshot() is about."""
    from django.contrib.contenttypes.models import ContentType

    from yingji.core.models import AuditEntry

    field_names = [f.attname for f in AuditEntry._meta.concrete_fields]
    ct = ContentType.objects.get_for_id(row[field_names.index("content_type_id")])
    return f"{ct.app_label}.{ct.model}"


def readable(response) -> str:
    """The body as a person reads it (JSON with its Chinese unescaped)."""
    if response.get("Content-Type", "").startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)
    return response.content.decode()


def test_every_write_operation_has_a_probe():
    operations = write_operations()
    assert len(operations) >= 68
    missing = sorted(set(operations) - set(PROBES))
    assert not missing, "写操作缺少越权探测(PROBES):\n" + "\n".join(missing)
    stale = sorted(set(PROBES) - set(operations))
    assert not stale, "PROBES 中的操作已不存在:\n" + "\n".join(stale)


@pytest.mark.parametrize(
    "operation,index",
    [(op, i) for op, probes in sorted(PROBES.items()) for i in range(len(probes))],
)
def test_a_write_outside_the_users_scope_is_refused_and_changes_nothing(
    two_districts, db, operation, index
):
    world = two_districts
    probe = PROBES[operation][index]
    method, template = operation.split(" ", 1)
    path = template.format(**probe.params(world))
    client = Client()
    client.force_login(world.users[probe.user])
    before = snapshot()
    response = send(client, method, path, probe, world)
    after = snapshot()
    text = readable(response)
    assert response.status_code in probe.refused, (response.status_code, text[:500])
    assert probe.says in text, text[:500]
    changed = changes(before, after)
    if probe.logs:  # only the attempt's log, and only audit entries about it
        changed = [c for c in changed if c not in probe.logs]
        if "core.auditentry" in changed:
            old_ids = {row[0] for row in before["core.auditentry"]}
            logged = {audited_model(r) for r in after["core.auditentry"] if r[0] not in old_ids}
            assert logged <= probe.logs, logged
            changed.remove("core.auditentry")
    assert not changed, f"越权请求改变了:{changed}"
    if probe.control:
        # The same request by someone who may make it succeeds (then is undone).
        allowed = Client()
        allowed.force_login(world.users[probe.control])
        with transaction.atomic():
            ok = send(allowed, method, path, probe, world, control=True)
            transaction.set_rollback(True)
        assert ok.status_code in probe.control_status, (ok.status_code, ok.content[:500])
