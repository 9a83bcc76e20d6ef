"""Departments: loading, suggestions, merge, dismiss, resolve."""

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from tests.core.test_deptnames import SEED_NAMES, SUGGESTED
from yingji.core import departments
from yingji.core.models import (
    AuditEntry,
    Department,
    DepartmentAlias,
    MergeSuggestion,
    Notification,
    Profile,
    Region,
)

HEADER = "name,kind,aliases,region_code,sort_order\n"


def _csv(tmp_path, body: str, name="depts.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _suggestion(a: str, b: str) -> MergeSuggestion:
    return MergeSuggestion.objects.get(department__name__in=[a, b], candidate__name__in=[a, b])


@pytest.fixture
def loaded(db):
    return departments.load_departments()


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("root", "root@example.org", "x")


def test_shipped_file_has_every_seed_department_district_and_municipal_department(loaded):
    names = set(Department.objects.values_list("name", flat=True))
    assert set(SEED_NAMES) <= names
    assert Department.objects.filter(kind="district_gov").count() == 11
    assert Department.objects.filter(kind="municipal").count() == 12
    assert Department.objects.get(name="地震监测中心").kind == "bureau_unit"
    assert Department.objects.get(name="综合处").kind == "bureau_dept"
    assert loaded.created == Department.objects.count()


def test_loading_twice_gives_the_same_rows_and_writes_nothing(db):
    first = departments.load_departments()
    rows = sorted(Department.objects.values_list("name", "kind", "sort_order", "region_id"))
    aliases = sorted(DepartmentAlias.objects.values_list("alias", "department__name"))
    audit_count = AuditEntry.objects.count()
    second = departments.load_departments()
    assert sorted(Department.objects.values_list("name", "kind", "sort_order", "region_id")) == rows
    assert sorted(DepartmentAlias.objects.values_list("alias", "department__name")) == aliases
    assert (second.created, second.updated, second.aliases_created, second.suggestions_created) == (
        0,
        0,
        0,
        0,
    )
    assert second.unchanged == first.created
    assert second.open_suggestions == first.open_suggestions
    assert AuditEntry.objects.count() == audit_count


def test_loading_is_audited_as_the_import(loaded):
    entry = AuditEntry.objects.filter(object_repr="综合处", action="create").get()
    assert entry.actor is None and entry.actor_label == "部门导入"


def test_region_is_linked_only_when_it_exists(db):
    result = departments.load_departments()
    assert Department.objects.get(name="天河区政府").region is None
    assert "440106" in result.regions_missing
    Region.objects.create(code="440106", name="天河区", level="district")
    again = departments.load_departments()
    assert Department.objects.get(name="天河区政府").region_id == "440106"
    assert again.updated == 1 and "440106" not in again.regions_missing


def test_the_near_duplicate_groups_are_suggested_and_nothing_is_merged(loaded):
    pairs = {
        frozenset((s.department.name, s.candidate.name))
        for s in MergeSuggestion.objects.select_related("department", "candidate")
    }
    assert pairs == SUGGESTED
    assert not Department.objects.filter(merged_into__isnull=False).exists()
    assert all(s.status == "open" for s in MergeSuggestion.objects.all())
    assert "科技处 可能与 科技和统计处 相同(去掉通用后缀后相同)" in loaded.open_suggestions
    assert len(loaded.open_suggestions) == 5


def test_the_later_department_is_suggested_for_merging_into_the_earlier(loaded):
    s = _suggestion("科技处", "科技和统计处")
    assert (s.department.name, s.candidate.name) == ("科技处", "科技和统计处")


@pytest.mark.parametrize(
    "body, line, column, text",
    [
        ("综合处,bureau_dept,,,10\n危化处,bureau_depot,,,20\n", 3, "kind", "未知类别"),
        ("综合处,bureau_dept,,,10\n,bureau_dept,,,20\n", 3, "name", "名称为空"),
        ("综合处,bureau_dept,,,10\n综合处,bureau_dept,,,20\n", 3, "name", "重复"),
        (
            "综合处,bureau_dept,综合协调处,,10\n基础处,bureau_dept,综合协调处,,20\n",
            3,
            "aliases",
            "已被第2行使用",
        ),
        (
            "综合处,bureau_dept,,,10\n基础处,bureau_dept,综合处,,20\n",
            3,
            "aliases",
            "是第2行部门的名称",
        ),
        ("综合处,bureau_dept,,4401,10\n", 2, "region_code", "区划代码"),
        ("综合处,bureau_dept,,,十\n", 2, "sort_order", "排序"),
    ],
)
def test_bad_rows_are_named_by_file_line_and_column(db, tmp_path, body, line, column, text):
    path = _csv(tmp_path, body)
    with pytest.raises(departments.DepartmentFileError) as exc:
        departments.load_departments(path)
    assert (exc.value.file, exc.value.line, exc.value.column) == (str(path), line, column)
    assert text in exc.value.message
    assert f"{path} 第{line}行 {column} 列" in str(exc.value)
    assert not Department.objects.exists()


def test_every_bad_row_is_reported_at_once(db, tmp_path):
    path = _csv(tmp_path, "综合处,nope,,,10\n,bureau_dept,,,20\n")
    with pytest.raises(departments.DepartmentFileError) as exc:
        departments.load_departments(path)
    assert [(p.line, p.column) for p in exc.value.problems] == [(2, "kind"), (3, "name")]


def test_missing_column_is_named(db, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("name,kind\n综合处,bureau_dept\n", encoding="utf-8")
    with pytest.raises(departments.DepartmentFileError) as exc:
        departments.read_department_file(path)
    assert (exc.value.line, exc.value.column) == (1, "aliases")


def test_alias_already_used_by_another_department_in_the_database(db, tmp_path):
    other = Department.objects.create(name="安监处")
    DepartmentAlias.objects.create(department=other, alias="综合协调处")
    path = _csv(tmp_path, "机关党委,bureau_dept,,,5\n综合处,bureau_dept,综合协调处,,10\n")
    with pytest.raises(departments.DepartmentFileError) as exc:
        departments.load_departments(path)
    assert (exc.value.line, exc.value.column) == (3, "aliases")
    assert "安监处" in exc.value.message
    assert not Department.objects.filter(name="机关党委").exists()


def test_kind_may_be_given_by_its_chinese_label(db, tmp_path):
    departments.load_departments(_csv(tmp_path, "地震监测中心,局属单位,,,10\n"))
    assert Department.objects.get(name="地震监测中心").kind == "bureau_unit"


def test_resolve_by_name_alias_and_normalised_spelling(loaded):
    weihua = Department.objects.get(name="危化处")
    assert departments.resolve("危化处") == weihua
    assert departments.resolve("危险化学品安全监督管理处") == weihua
    assert departments.resolve(" 危化 处 ") == weihua
    assert departments.resolve("广州市天河区人民政府").name == "天河区政府"
    assert departments.resolve("不存在处") is None
    assert departments.resolve("") is None


def test_known_names_maps_names_and_aliases_to_the_canonical_name(loaded):
    names = departments.known_names()
    assert names["执法监督处"] == "执法处"
    assert names["市卫健委"] == "市卫生健康委"
    assert names["科技处"] == "科技处"


def test_merge_moves_aliases_repoints_foreign_keys_and_is_audited(loaded, admin_user):
    source = Department.objects.get(name="科技处")
    target = Department.objects.get(name="科技和统计处")
    DepartmentAlias.objects.create(department=source, alias="科技信息化处")
    member = User.objects.create_user("keji")
    profile = Profile.objects.create(user=member, department=source)
    note = Notification.objects.create(
        department=source, address="a@example.org", subject="s", body="b", dedupe_key="k1"
    )
    suggestion = _suggestion("科技处", "科技和统计处")

    result = departments.merge(suggestion, admin_user)

    profile.refresh_from_db()
    note.refresh_from_db()
    source.refresh_from_db()
    suggestion.refresh_from_db()
    assert profile.department == target and note.department == target
    assert source.merged_into == target and not source.active
    assert set(target.aliases.values_list("alias", flat=True)) >= {"科技信息化处", "科技处"}
    assert (suggestion.status, suggestion.decided_by) == ("merged", admin_user)
    assert suggestion.decided_at is not None
    assert result.moved["人员.所在部门"] == 1
    assert "科技和统计处" in result.summary()
    entry = AuditEntry.objects.get(
        content_type__model="profile", object_pk=str(profile.pk), action="update"
    )
    assert entry.actor == admin_user and entry.changed_fields == ["department_id"]
    assert entry.before["department_id"] == source.pk and entry.after["department_id"] == target.pk
    assert AuditEntry.objects.filter(
        content_type__model="department",
        object_pk=str(source.pk),
        action="update",
        actor=admin_user,
    ).exists()
    assert departments.resolve("科技处") == target
    assert departments.known_names()["科技处"] == "科技和统计处"
    assert [
        d["name"] for d in Department.objects.filter(merged_into__isnull=True).values("name")
    ].count("科技处") == 0


def test_merge_repoints_tables_of_later_modules(loaded, admin_user):
    from yingji.workplan.models import Assignment, Plan, Section, Task

    plan = Plan.objects.create(title="2022年工作要点", year=2022, source_sha256="0" * 64)
    section = Section.objects.create(plan=plan, number=6, title="强化应急准备")
    task = Task.objects.create(
        plan=plan, section=section, number=58, text="…", due=dt.date(2022, 12, 31)
    )
    source = Department.objects.get(name="火灾管理处")
    assignment = Assignment.objects.create(
        task=task, department=source, role="co", name_as_written="火灾管理处"
    )
    departments.merge(_suggestion("火灾处", "火灾管理处"), admin_user)
    assignment.refresh_from_db()
    assert assignment.department.name == "火灾处"
    assert assignment.name_as_written == "火灾管理处"


def test_foreign_keys_are_discovered_from_the_model_registry(db):
    found = {(m._meta.label_lower, f.name) for m, f in departments.department_foreign_keys()}
    assert {
        ("core.profile", "department"),
        ("core.departmentalias", "department"),
        ("core.notification", "department"),
        ("core.department", "merged_into"),
        ("workplan.assignment", "department"),
    } <= found
    assert not any(label == "core.mergesuggestion" for label, _ in found)


def test_merge_in_a_group_repoints_or_closes_the_other_suggestions(loaded, admin_user):
    departments.merge(_suggestion("火灾处", "火灾管理处"), admin_user)
    open_pairs = {
        frozenset((s.department.name, s.candidate.name))
        for s in MergeSuggestion.objects.filter(status="open")
    }
    # 火灾管理处 / 防火处 is now 火灾处 / 防火处, which is already suggested.
    assert open_pairs == {
        frozenset({"火灾处", "防火处"}),
        frozenset({"科技处", "科技和统计处"}),
        frozenset({"指挥中心", "三防指挥中心"}),
    }
    departments.merge(_suggestion("火灾处", "防火处"), admin_user)
    assert departments.resolve("火灾管理处").name == "防火处"


def test_reverse_merge_keeps_the_suggested_department(loaded, admin_user):
    result = departments.merge(_suggestion("指挥中心", "三防指挥中心"), admin_user, reverse=True)
    assert (result.source.name, result.target.name) == ("三防指挥中心", "指挥中心")
    assert departments.resolve("三防指挥中心").name == "指挥中心"


def test_a_decided_suggestion_cannot_be_decided_again(loaded, admin_user):
    suggestion = _suggestion("科技处", "科技和统计处")
    departments.merge(suggestion, admin_user)
    with pytest.raises(departments.MergeError):
        departments.merge(suggestion, admin_user)
    with pytest.raises(departments.MergeError):
        departments.dismiss(suggestion, admin_user)


def test_dismiss_closes_the_suggestion_for_good(loaded, admin_user):
    suggestion = _suggestion("指挥中心", "三防指挥中心")
    departments.dismiss(suggestion, admin_user)
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by) == ("dismissed", admin_user)
    result = departments.load_departments()
    assert result.suggestions_created == 0
    assert not any("指挥中心 可能与" in t for t in result.open_suggestions)
    assert not Department.objects.filter(merged_into__isnull=False).exists()


def test_loading_after_a_merge_keeps_the_merge(loaded, admin_user):
    departments.merge(_suggestion("科技处", "科技和统计处"), admin_user)
    result = departments.load_departments()
    assert Department.objects.get(name="科技处").merged_into.name == "科技和统计处"
    assert result.suggestions_created == 0 and len(result.open_suggestions) == 4


def test_load_command_prints_counts_and_suggestions(db, capsys):
    call_command("departments", "load")
    out = capsys.readouterr().out
    assert "部门:新增 46" in out
    assert "火灾管理处 可能与 火灾处 相同" in out
    call_command("departments", "suggestions")
    assert "可能与" in capsys.readouterr().out


def test_load_command_error_names_file_line_and_column(db, tmp_path):
    path = _csv(tmp_path, "综合处,bureau_dept,,,10\n危化处,bad,,,20\n")
    with pytest.raises(CommandError) as exc:
        call_command("departments", "load", str(path))
    assert exc.value.returncode == 2
    assert f"{path} 第3行 kind 列" in str(exc.value)


def test_cli_exits_with_status_2_on_a_bad_file(tmp_path):
    path = _csv(tmp_path, ",bureau_dept,,,10\n")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "yingji.test_settings"}
    proc = subprocess.run(
        [sys.executable, "-m", "yingji.cli", "departments", "load", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert f"{path} 第2行 name 列: 名称为空" in proc.stderr


def test_admin_lists_suggestions_and_merges_or_dismisses_them(loaded, admin_user, client):
    client.force_login(admin_user)
    url = "/admin/core/mergesuggestion/"
    page = client.get(url + "?status__exact=open")
    assert page.status_code == 200
    assert "合并(一键)" in page.content.decode() and "不是同一部门" in page.content.decode()
    merge_id = _suggestion("科技处", "科技和统计处").pk
    dismiss_id = _suggestion("指挥中心", "三防指挥中心").pk
    client.post(url, {"action": "merge_selected", "_selected_action": [merge_id]})
    client.post(url, {"action": "dismiss_selected", "_selected_action": [dismiss_id]})
    assert MergeSuggestion.objects.get(pk=merge_id).status == "merged"
    assert MergeSuggestion.objects.get(pk=dismiss_id).status == "dismissed"
    assert departments.resolve("科技处").name == "科技和统计处"
    # a fire-group merge in one batch: the later suggestions are re-pointed or closed
    fire = list(MergeSuggestion.objects.filter(status="open").values_list("pk", flat=True))
    client.post(url, {"action": "merge_selected", "_selected_action": fire})
    assert not MergeSuggestion.objects.filter(status="open").exists()
    assert departments.resolve("火灾管理处") == departments.resolve("防火处")
