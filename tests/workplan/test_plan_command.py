"""`yingji plan parse`: reads a document without touching the database (no
django_db mark: pytest-django would refuse any query)."""

import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from yingji.workplan.parser import GUANGZHOU_2022_PLAN, parse_plan_file


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("plan", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def bad_file(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text(
        "2022年工作要点\n一、强化责任\n1.做好工作。(综合处)\n3.完善预案。\n", encoding="utf-8"
    )
    return path


def test_parse_json_prints_the_whole_plan():
    out, _ = run("parse", str(GUANGZHOU_2022_PLAN), "--json")
    data = json.loads(out)
    assert data == parse_plan_file(GUANGZHOU_2022_PLAN).to_json()
    assert len([t for s in data["sections"] for t in s["tasks"]]) == 61
    assert "“双下降”" in out  # ensure_ascii=False: Chinese as written
    assert out.startswith('{\n  "title": "2022年工作要点"')


def test_parse_without_json_prints_a_summary():
    out, _ = run("parse", str(GUANGZHOU_2022_PLAN))
    assert "部分 7 个,任务 61 个" in out
    assert "  1. 强化政治引领,高站位推进应急管理事业改革发展(任务 1–10)" in out
    assert "guangzhou_2022_plan.txt:1: 文件开头没有标题行,标题取为“2022年工作要点”" in out


def test_parse_year_option(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text("工作要点\n一、强化责任\n1.年底前完成。(综合处)", encoding="utf-8")
    data = json.loads(run("parse", str(path), "--json", "--year", "2024")[0])
    assert data["year"] == 2024
    assert data["sections"][0]["tasks"][0]["due"] == "2024-12-31"


def test_bad_file_exits_2_with_each_issue_naming_file_and_line(bad_file):
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("plan", "parse", str(bad_file), "--json", stdout=io.StringIO(), stderr=err)
    assert caught.value.returncode == 2
    assert err.getvalue().splitlines() == [
        "bad.txt:4: 缺少任务序号 2",
        "bad.txt:4: 任务 3 末尾没有责任处室括号,文件可能不完整",
    ]


def test_console_script_exit_status_is_2(bad_file):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "yingji.test_settings"}
    result = subprocess.run(
        [sys.executable, "-m", "yingji.cli", "plan", "parse", str(bad_file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "bad.txt:4: 缺少任务序号 2" in result.stderr
    assert result.stdout == ""
