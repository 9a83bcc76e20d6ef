"""The bundled 2022 Guangzhou plan parses to exactly what it parsed to before the
parser learnt other layouts: every section, task, owner, clause, time hint, source
line and warning, against a snapshot taken from the two-level parser."""

import json
from pathlib import Path

from yingji.workplan.parser import GUANGZHOU_2022_PLAN, parse_plan_file

SNAPSHOT = json.loads(
    (Path(__file__).parent / "fixtures" / "seed_parsed.json").read_text(encoding="utf-8")
)
# added with the other layouts, and with the collective and pending owners (issue 14)
NEW_TASK_KEYS = ("subsection", "source", "collective", "owners_pending")


def test_seed_parses_exactly_as_the_snapshot():
    plan = parse_plan_file(GUANGZHOU_2022_PLAN)
    data = plan.to_json()
    for section in data["sections"]:
        for task in section["tasks"]:
            assert (task["collective"], task["owners_pending"]) == ([], False)
            for key in NEW_TASK_KEYS:
                task.pop(key, None)
            for clause in task["clauses"]:
                assert clause.pop("collective") == []
            if task["number"] == 47:
                # the one change since the snapshot: task 47's end is a clause too
                assert task["clauses"].pop() == {
                    "text": "推动国家地震烈度速报与预警工程广东子项目在广州的落地",
                    "lead": ["地震局"],
                    "co": ["地震监测中心"],
                }
    data["preamble"] = plan.preamble
    data["lines"] = [[s.line, [[t.line, t.end_line] for t in s.tasks]] for s in plan.sections]
    assert data == SNAPSHOT
    assert (len(plan.sections), len(plan.tasks)) == (7, 61)


def test_seed_tasks_have_no_subsection_and_name_their_line():
    plan = parse_plan_file(GUANGZHOU_2022_PLAN)
    assert {getattr(t, "subsection", None) for t in plan.tasks} == {None}
