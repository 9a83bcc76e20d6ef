"""The shared label filters (core/templatetags/yingji_labels.py) and the labels
the crawl (test_crawl.py) asked for: what a person reads is Chinese."""

from types import SimpleNamespace

import pytest
from django.contrib.contenttypes.models import ContentType

from yingji.core.models import Region
from yingji.core.templatetags.yingji_labels import field_labels, region_names
from yingji.response.drills import step_summary
from yingji.response.templatetags.response_labels import level_numeral, response_level
from yingji.workplan.models import ProgressReport


@pytest.mark.django_db
def test_audit_fields_read_by_their_verbose_names_and_never_the_id():
    entry = SimpleNamespace(
        content_type_id=1,
        content_type=ContentType.objects.get_for_model(ProgressReport),
        changed_fields=["id", "author_id", "department", "task", "percent"],
    )
    assert field_labels(entry) == ["报送人", "报送单位", "任务", "完成进度(%)"]


@pytest.mark.django_db
def test_region_codes_read_as_names():
    Region.objects.create(code="440106", name="天河区", level="district")
    assert region_names(["440106", "999999"]) == "天河区、999999"
    assert region_names("440106") == "天河区" and region_names([]) == ""


def test_response_levels_and_drill_steps_read_in_chinese():
    assert (level_numeral("III"), response_level("II")) == ("Ⅲ", "二级响应")
    assert step_summary({"kind": "alarm", "rule": "rainstorm", "level": "red"}) == (
        "监测报警:暴雨(红色)"
    )
    assert step_summary({"kind": "report", "text": "转移群众600人"}) == "续报:转移群众600人"
