"""The rule editor's form: an AlarmRule as the pages edit it, validated in Chinese
against what the rule engine accepts (rules.py) before anything is saved or dry-run.

What the engine needs (see `rules.Rule.validate` and `services.rule_spec`):

- a plain rule (读数 / 变化率 / 滚动累计 / 无数据) watches a sensor type or listed
  sensors, and has at least one of the four thresholds; the thresholds rise with
  the level for 「高于」 rules and fall for 「低于」 rules;
- 滚动累计 needs a time window, kept in 5-minute buckets (so a multiple of 300 s);
  the window means nothing to the other metrics (变化率 is per minute between two
  evaluations; 无数据's thresholds are the seconds of silence, always 「高于」);
- a composite rule (区域组合) needs a plain child rule, k (0 = all) and a level.
"""

from __future__ import annotations

import inspect
import re

from django import forms

from yingji.core.models import Department
from yingji.core.scope import scope_for
from yingji.monitoring.models import AlarmRule, Sensor, SensorType
from yingji.monitoring.rules import LEVEL_LABELS, LEVELS, Engine, Rule, RuleError

# The engine keeps rolling sums in buckets of this many seconds.
SUM_BUCKET_S: int = inspect.signature(Engine).parameters["bucket_s"].default
THRESHOLDS = ("blue", "yellow", "orange", "red")
WINDOW_EXAMPLE = "如 3600 为 1 小时、10800 为 3 小时"
# Running ingest paths check the rules every 10 s (Ingestor.reload_if_changed).
APPLY_NOTE = "约 10 秒内正在运行的接入进程即按新规则判断,无需重启"


def may_manage_rules(user, action: str = "change") -> bool:
    """Rules are bureau-wide configuration: those who edit everything (leaders,
    supervisors, administrators, superusers) and those granted the model
    permission (`add_alarmrule` / `change_alarmrule`, e.g. the bureau's monitoring
    staff, as in the admin) may create / edit them."""
    return scope_for(user).edits_all or user.has_perm(f"monitoring.{action}_alarmrule")


class AlarmRuleForm(forms.ModelForm):
    sensor_codes = forms.CharField(
        label="指定传感器编号",
        required=False,
        help_text="用逗号或空格分隔;填写后只监测这些传感器(否则监测所选类型的全部传感器)",
        widget=forms.TextInput(attrs={"size": 40}),
    )
    composite_level = forms.ChoiceField(
        label="组合:报警级别", choices=[(k, LEVEL_LABELS[k]) for k in LEVELS], initial="orange"
    )

    class Meta:
        model = AlarmRule
        fields = [
            "name",
            "sensor_type",
            "sensor_codes",
            "metric",
            "direction",
            "blue",
            "yellow",
            "orange",
            "red",
            "blue_ref",
            "yellow_ref",
            "orange_ref",
            "red_ref",
            "window_s",
            "hysteresis",
            "for_s",
            "escalate_every_s",
            "child",
            "k",
            "composite_level",
            "notify_department",
            "escalate_to",
            "escalate_after_min",
            "remind_every_min",
            "active",
        ]
        help_texts = {
            "window_s": f"仅用于滚动累计,须为 {SUM_BUCKET_S} 秒的整数倍({WINDOW_EXAMPLE})",
            "hysteresis": "读数回落超过阈值这么多才降级或解除,避免在阈值附近反复报警",
            "for_s": "超过阈值持续这么久才报警(之前为「待触发」)",
            "escalate_every_s": "报警持续期间每隔这么久级别升一级(0 为不升级)",
            "k": "区域内至少几个传感器触发子规则(0 为全部)",
            "red_ref": "一条规则按各站自己的阈值判断,可加偏移量(如「警戒水位+0.5」);没有该阈值的传感器不参与此规则",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["sensor_codes"] = ", ".join(self.instance.sensor_codes or [])
        children = AlarmRule.objects.exclude(metric=AlarmRule.Metric.COMPOSITE)
        if self.instance.pk:
            children = children.exclude(pk=self.instance.pk)
        self.fields["child"].queryset = children
        live = Department.objects.filter(merged_into__isnull=True)
        self.fields["notify_department"].queryset = live
        self.fields["escalate_to"].queryset = live
        self.fields["sensor_type"].choices = [("", "(按指定传感器)"), *SensorType.choices]

    def clean_sensor_codes(self) -> list[str]:
        codes = list(
            dict.fromkeys(
                c for c in re.split(r"[\s,,、;;]+", self.cleaned_data["sensor_codes"]) if c
            )
        )
        known = dict(Sensor.objects.filter(code__in=codes).values_list("code", "type"))
        missing = [c for c in codes if c not in known]
        if missing:
            raise forms.ValidationError(f"未知传感器编号:{'、'.join(missing)}")
        self._code_types = known
        return codes

    def clean(self) -> dict:
        data = super().clean()
        metric = data.get("metric")
        if metric == AlarmRule.Metric.COMPOSITE:
            self._clean_composite(data)
        elif metric:
            self._clean_plain(data)
        return data

    def _clean_composite(self, data: dict) -> None:
        if data.get("child") is None:
            self.add_error("child", "区域组合规则须选择子规则")

    def _clean_plain(self, data: dict) -> None:
        metric, direction = data["metric"], data.get("direction")
        codes, stype = data.get("sensor_codes"), data.get("sensor_type")
        if not stype and not codes and "sensor_codes" not in self.errors:
            self.add_error("sensor_type", "请选择传感器类型,或填写指定传感器编号")
        if stype and codes:
            other = [c for c in codes if self._code_types.get(c) != stype]
            if other:
                self.add_error(
                    "sensor_codes",
                    f"传感器 {'、'.join(other)} 不是所选类型「{SensorType(stype).label}」",
                )
        used = [(f, data.get(f)) for f in THRESHOLDS if data.get(f) is not None]
        refs = [f for f in THRESHOLDS if (data.get(f"{f}_ref") or "").strip()]
        for f in refs:
            data[f"{f}_ref"] = data[f"{f}_ref"].strip()
            if data.get(f) is not None:
                self.add_error(f"{f}_ref", f"{_label(f)}阈值已填数值,引用与数值只能填一个")
        if not used and not refs and not any(f in self.errors for f in THRESHOLDS):
            self.add_error("blue", "至少填写一级阈值(蓝、黄、橙、红),或引用传感器的专属阈值")
        if metric == AlarmRule.Metric.NO_DATA and direction == "below":
            self.add_error("direction", "无数据规则的阈值是未上报的秒数,方向只能是「高于」")
        elif direction in ("above", "below"):
            for (lo_f, lo), (hi_f, hi) in zip(used, used[1:], strict=False):
                if direction == "above" and not hi > lo:
                    self.add_error(
                        hi_f,
                        f"「高于」规则级别越高阈值越大:{_label(hi_f)}阈值"
                        f"({hi:g})应大于{_label(lo_f)}阈值({lo:g})",
                    )
                    break
                if direction == "below" and not hi < lo:
                    self.add_error(
                        hi_f,
                        f"「低于」规则级别越高阈值越小:{_label(hi_f)}阈值"
                        f"({hi:g})应小于{_label(lo_f)}阈值({lo:g})",
                    )
                    break
        window = data.get("window_s") or 0
        if metric == AlarmRule.Metric.SUM:
            if window <= 0:
                self.add_error("window_s", f"滚动累计须填写时间窗(秒),{WINDOW_EXAMPLE}")
            elif window % SUM_BUCKET_S:
                self.add_error(
                    "window_s",
                    f"时间窗须为 {SUM_BUCKET_S} 秒({SUM_BUCKET_S // 60} "
                    f"分钟)的整数倍:累计按 {SUM_BUCKET_S // 60} 分钟分段",
                )
        elif window:
            self.add_error("window_s", "时间窗只用于「滚动累计」,该指标请留空或填 0")
        if (data.get("hysteresis") or 0) < 0:
            self.add_error("hysteresis", "回差不能为负数")
        if not self.errors:  # the engine's own check, as a last guard
            try:
                self.rule_spec().validate()
            except RuleError as exc:
                self.add_error(None, str(exc))

    def rule_spec(self) -> Rule:
        """The engine's view of the rule as edited (not saved)."""
        d = self.cleaned_data
        ids = (
            frozenset(
                Sensor.objects.filter(code__in=d.get("sensor_codes") or []).values_list(
                    "pk", flat=True
                )
            )
            or None
        )
        return Rule(
            id=self.instance.pk or 0,
            name=d.get("name") or "(未命名)",
            metric=d["metric"],
            thresholds=tuple(d.get(f) for f in THRESHOLDS),
            threshold_refs=tuple((d.get(f"{f}_ref") or "").strip() or None for f in THRESHOLDS),
            direction=d.get("direction") or "above",
            sensor_type=d.get("sensor_type") or None,
            sensor_ids=ids,
            window_s=d.get("window_s") or 0,
            hysteresis=d.get("hysteresis") or 0,
            for_s=d.get("for_s") or 0,
            escalate_every_s=d.get("escalate_every_s") or 0,
        )


def _label(field: str) -> str:
    return LEVEL_LABELS[field]
