"""The bundled 2022 Guangzhou plan parses to exactly what it parsed to before the
parser learnt other layouts: every section, task, owner, clause, time hint, source
line and warning, against a snapshot taken from the two-level parser."""

import json
from pathlib import Path

from yingji.workplan.parser import GUANGZHOU_2022_PLAN, parse_plan_file

SNAPSHOT = json.loads(
    (Path(__file__).parent / "fixtures" / "seed_parsed.json").read_text(encoding="utf-8")
)
NEW_TASK_KEYS = ("subsection", "source")  # added with the other layouts


def test_seed_parses_exactly_as_the_snapshot():
    plan = parse_plan_file(GUANGZHOU_2022_PLAN)
    data = plan.to_json()
    for section in data["sections"]:
        for task in section["tasks"]:
            for key in NEW_TASK_KEYS:
                task.pop(key, None)
    data["preamble"] = plan.preamble
    data["lines"] = [[s.line, [[t.line, t.end_line] for t in s.tasks]] for s in plan.sections]
    assert data == SNAPSHOT
    assert (len(plan.sections), len(plan.tasks)) == (7, 61)


def test_seed_tasks_have_no_subsection_and_name_their_line():
    plan = parse_plan_file(GUANGZHOU_2022_PLAN)
    assert {getattr(t, "subsection", None) for t in plan.tasks} == {None}
