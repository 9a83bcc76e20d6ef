"""城市安全风险监测预警 (monitoring): persistence only.

Readings, rollups and dead letters are bulk data written by the ingest path with
raw SQL (never audited row by row); sensors, rules, alarms and silences are
registries and are audited like every other model. Reading times are epoch
milliseconds (UTC): integers keep the hot path free of datetime parsing and make
(sensor, ts) an exact duplicate key.
"""

import math

from django.conf import settings
from django.db import models

from yingji.core.models import Department, Region
from yingji.monitoring.units import CANONICAL_UNITS


class SensorType(models.TextChoices):
    RAIN = "rain", "雨量计"
    WATER_LEVEL = "water_level", "水位计"
    WATERLOGGING = "waterlogging", "积水深度"
    FLOW = "flow", "流量"
    GAS = "gas", "燃气浓度"
    COMBUSTIBLE_GAS = "combustible_gas", "可燃气体"
    PRESSURE = "pressure", "压力"
    STRAIN = "strain", "应变"
    DISPLACEMENT = "displacement", "位移"
    TILT = "tilt", "倾角"
    TEMPERATURE = "temperature", "温度"
    WIND_SPEED = "wind_speed", "风速"
    SEISMIC = "seismic", "地震烈度"
    SMOKE = "smoke", "烟感"


# Canonical unit of each type (readings are stored in it: units.py) and its hazard
# group (the regional level is kept per hazard).
TYPE_UNITS = CANONICAL_UNITS
TYPE_HAZARDS = {
    "rain": "rainstorm",
    "water_level": "waterlogging",
    "waterlogging": "waterlogging",
    "flow": "waterlogging",
    "gas": "gas",
    "combustible_gas": "hazardous_chemicals",
    "pressure": "gas",
    "strain": "structure",
    "displacement": "structure",
    "tilt": "structure",
    "temperature": "hazardous_chemicals",
    "wind_speed": "typhoon",
    "seismic": "earthquake",
    "smoke": "forest_fire",
}
HAZARD_LABELS = {
    "rainstorm": "暴雨",
    "waterlogging": "内涝",
    "typhoon": "台风",
    "gas": "燃气",
    "structure": "结构安全",
    "hazardous_chemicals": "危险化学品",
    "forest_fire": "森林火灾",
    "earthquake": "地震",
    "other": "其他",
}


class Sensor(models.Model):
    class Status(models.TextChoices):
        ONLINE = "online", "在线"
        OFFLINE = "offline", "离线"
        MAINTENANCE = "maintenance", "维护中"

    code = models.CharField(
        "编号", max_length=64, unique=True, help_text="设备上报所用编号(MQTT 主题与报文中的 sensor)"
    )
    name = models.CharField("名称", max_length=100)
    type = models.CharField("类型", max_length=20, choices=SensorType.choices)
    unit = models.CharField("单位", max_length=16)
    lon = models.FloatField("经度(WGS-84)")
    lat = models.FloatField("纬度(WGS-84)")
    district = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="所在区",
    )
    street = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="所在镇街",
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, verbose_name="权属部门"
    )
    linked_to = models.CharField("关联企业/风险点", max_length=200, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.ONLINE)
    last_seen_ms = models.BigIntegerField("最近上报(毫秒)", null=True, blank=True)
    last_value = models.FloatField("最近读数", null=True, blank=True)
    # Named thresholds of this station ({"警戒水位": 3.2, "常年高值": 2.5}), in the
    # type's canonical unit: a rule references one by name (rules.py).
    thresholds = models.JSONField(
        "专属阈值",
        default=dict,
        blank=True,
        help_text='本站的命名阈值,单位同类型存储单位,如 {"警戒水位": 3.2, "常年高值": 2.5};'
        "规则可按名称引用",
    )

    class Meta:
        verbose_name = "监测传感器"
        verbose_name_plural = "监测传感器"
        ordering = ["code"]
        indexes = [models.Index(fields=["type"]), models.Index(fields=["street"])]

    def __str__(self) -> str:
        return f"{self.name}({self.code})"

    @property
    def hazard(self) -> str:
        return TYPE_HAZARDS.get(self.type, "other")

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        t = self.thresholds
        if not isinstance(t, dict) or not all(
            isinstance(k, str)
            and k.strip()
            and isinstance(v, int | float)
            and not isinstance(v, bool)
            and math.isfinite(v)
            for k, v in t.items()
        ):
            raise ValidationError(
                {"thresholds": '专属阈值应为「名称: 数值」,如 {"警戒水位": 3.2, "常年高值": 2.5}'}
            )


class Reading(models.Model):
    """One reading. (sensor, ts_ms) is unique: a duplicate is stored once."""

    # No database foreign-key constraint: the ingest path writes only readings of
    # registered sensors, and on PostgreSQL the deferred constraint check doubled the
    # cost of inserting a reading (200,000 rows: 1.5 s with it, 0.74 s without).
    # Deleting a sensor still deletes its readings (Django's cascade).
    sensor = models.ForeignKey(
        Sensor, on_delete=models.CASCADE, verbose_name="传感器", db_index=False, db_constraint=False
    )
    ts_ms = models.BigIntegerField("时间(毫秒)")
    value = models.FloatField("读数")

    class Meta:
        verbose_name = "监测读数"
        verbose_name_plural = "监测读数"
        constraints = [models.UniqueConstraint(fields=["sensor", "ts_ms"], name="uniq_reading")]


class Rollup(models.Model):
    """Minute and hour aggregates of readings (kept longer than raw readings)."""

    class Period(models.TextChoices):
        MINUTE = "minute", "分钟"
        HOUR = "hour", "小时"

    sensor = models.ForeignKey(Sensor, on_delete=models.CASCADE, db_index=False)
    period = models.CharField(max_length=8, choices=Period.choices)
    start_ms = models.BigIntegerField()
    count = models.IntegerField()
    total = models.FloatField()
    minimum = models.FloatField()
    maximum = models.FloatField()

    class Meta:
        verbose_name = "读数汇总"
        verbose_name_plural = "读数汇总"
        constraints = [
            models.UniqueConstraint(fields=["sensor", "period", "start_ms"], name="uniq_rollup")
        ]


class DeadLetter(models.Model):
    """A message or reading the ingest could not accept, with the reason."""

    received_at = models.DateTimeField("接收时间", db_index=True)
    source = models.CharField("来源", max_length=16)  # mqtt / http / csv
    topic = models.CharField("主题/位置", max_length=200, blank=True)
    payload = models.TextField("原始内容")
    reason = models.CharField("原因", max_length=300)

    class Meta:
        verbose_name = "死信"
        verbose_name_plural = "死信"
        ordering = ["-received_at", "-id"]


class AlarmRule(models.Model):
    """An alarm rule, as data (see rules.py for the semantics)."""

    class Metric(models.TextChoices):
        VALUE = "value", "读数"
        RATE = "rate", "变化率(每分钟)"
        SUM = "sum", "滚动累计"
        NO_DATA = "no_data", "无数据(秒)"
        COMPOSITE = "composite", "区域组合"

    name = models.CharField("名称", max_length=100, unique=True)
    sensor_type = models.CharField(
        "传感器类型", max_length=20, choices=SensorType.choices, blank=True
    )
    sensor_codes = models.JSONField("指定传感器编号", default=list, blank=True)
    metric = models.CharField("指标", max_length=12, choices=Metric.choices, default="value")
    direction = models.CharField(
        "方向", max_length=8, default="above", choices=[("above", "高于"), ("below", "低于")]
    )
    blue = models.FloatField("蓝色阈值", null=True, blank=True)
    yellow = models.FloatField("黄色阈值", null=True, blank=True)
    orange = models.FloatField("橙色阈值", null=True, blank=True)
    red = models.FloatField("红色阈值", null=True, blank=True)
    # A level's threshold may instead name a sensor threshold (Sensor.thresholds).
    blue_ref = models.CharField("蓝色阈值引用", max_length=40, blank=True)
    yellow_ref = models.CharField("黄色阈值引用", max_length=40, blank=True)
    orange_ref = models.CharField("橙色阈值引用", max_length=40, blank=True)
    red_ref = models.CharField("红色阈值引用", max_length=40, blank=True)
    window_s = models.PositiveIntegerField("时间窗(秒)", default=0)
    hysteresis = models.FloatField("回差", default=0)
    for_s = models.PositiveIntegerField("持续时间(秒)", default=0)
    escalate_every_s = models.PositiveIntegerField("级别随时间上升间隔(秒)", default=0)
    # Composite: k of the area's sensors firing `child` (k = 0: all of them).
    child = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, verbose_name="组合:子规则"
    )
    k = models.PositiveIntegerField("组合:至少几个", default=1)
    composite_level = models.CharField("组合:报警级别", max_length=8, default="orange")
    notify_department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="通知部门(默认传感器权属部门)",
    )
    escalate_to = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="超时未确认升级至",
    )
    escalate_after_min = models.PositiveIntegerField("未确认升级(分钟)", default=30)
    remind_every_min = models.PositiveIntegerField("提醒间隔(分钟)", default=60)
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "报警规则"
        verbose_name_plural = "报警规则"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    """One monitoring event (监测事件): the alarms of one hazard in one district that
    belong together (eventrules.py), from the first alarm until they have all been
    quiet for a while. Alerts drafts, the duty-desk item and the incident follow the
    event, not each alarm."""

    class State(models.TextChoices):
        OPEN = "open", "进行中"
        CLOSED = "closed", "已结束"

    hazard = models.CharField("灾种", max_length=24)
    district = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name="区"
    )
    area_codes = models.JSONField("涉及区域", default=list)
    level = models.CharField("当前级别", max_length=8, blank=True)
    max_level = models.CharField("最高级别", max_length=8, blank=True)
    state = models.CharField("状态", max_length=8, choices=State.choices, default=State.OPEN)
    started_at = models.DateTimeField("开始")
    changed_at = models.DateTimeField("最近变化")
    quiet_since = models.DateTimeField("报警全部解除于", null=True, blank=True)
    closed_at = models.DateTimeField("结束", null=True, blank=True)
    close_reason = models.CharField("结束原因", max_length=100, blank=True)
    replayed = models.BooleanField("回放", default=False)

    class Meta:
        verbose_name = "监测事件"
        verbose_name_plural = "监测事件"
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["state", "hazard"])]

    def __str__(self) -> str:
        return f"{self.district.name}{self.hazard} 监测事件 #{self.pk}"


class Alarm(models.Model):
    """One alarm of one (sensor or area, rule); at most one active at a time
    (``active_key`` is set while active and cleared on resolve)."""

    class State(models.TextChoices):
        PENDING = "pending", "待触发"
        FIRING = "firing", "报警中"
        ACKNOWLEDGED = "acknowledged", "已确认"
        SILENCED = "silenced", "已静默"
        RESOLVED = "resolved", "已解除"

    rule = models.ForeignKey(AlarmRule, on_delete=models.PROTECT, verbose_name="规则")
    sensor = models.ForeignKey(
        Sensor, null=True, blank=True, on_delete=models.CASCADE, verbose_name="传感器"
    )
    area = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="区域",
    )
    district_code = models.CharField("区", max_length=12, blank=True, db_index=True)
    street_code = models.CharField("镇街", max_length=12, blank=True, db_index=True)
    hazard = models.CharField("灾种", max_length=24)
    state = models.CharField("状态", max_length=14, choices=State.choices)
    level = models.CharField("级别", max_length=8, blank=True)
    max_level = models.CharField("最高级别", max_length=8, blank=True)
    value = models.FloatField("触发值", null=True, blank=True)
    active_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    started_at = models.DateTimeField("开始", db_index=True)
    fired_at = models.DateTimeField("触发", null=True, blank=True)
    acknowledged_at = models.DateTimeField("确认", null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="确认人",
    )
    resolved_at = models.DateTimeField("解除", null=True, blank=True)
    silenced_until = models.DateTimeField("静默至", null=True, blank=True)
    escalated_at = models.DateTimeField("已升级", null=True, blank=True)
    last_notified_at = models.DateTimeField("最近通知", null=True, blank=True)
    reminders = models.PositiveIntegerField("提醒次数", default=0)
    event = models.ForeignKey(
        Event,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alarms",
        verbose_name="监测事件",
    )
    # Raised by `yingji replay --historical` from a past day's readings: shown 回放,
    # told to nobody unless the replay asked for it (see services.replay_history).
    replayed = models.BooleanField("回放", default=False, db_index=True)

    class Meta:
        verbose_name = "报警"
        verbose_name_plural = "报警"
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["state", "level"])]

    def __str__(self) -> str:
        # People read sensors and areas by name (the code stays on the sensor's page).
        if self.sensor_id:
            subject = self.sensor.name or self.sensor.code
        else:
            subject = self.area.name if self.area_id else ""
        return f"{self.rule.name} · {subject} · {self.get_state_display()}"


class AlarmEvent(models.Model):
    """The alarm's history: each state or level change."""

    alarm = models.ForeignKey(
        Alarm, on_delete=models.CASCADE, related_name="events", verbose_name="报警"
    )
    at = models.DateTimeField("时间")
    state = models.CharField("状态", max_length=14)
    level = models.CharField("级别", max_length=8, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "报警记录"
        verbose_name_plural = "报警记录"
        ordering = ["at", "id"]


class Silence(models.Model):
    """A silence or maintenance window: alarms matching it notify nobody while
    it lasts. Empty matchers match everything."""

    rule = models.ForeignKey(
        AlarmRule, null=True, blank=True, on_delete=models.CASCADE, verbose_name="规则"
    )
    sensor = models.ForeignKey(
        Sensor, null=True, blank=True, on_delete=models.CASCADE, verbose_name="传感器"
    )
    region_code = models.CharField("区划代码(含下级)", max_length=12, blank=True)
    hazard = models.CharField("灾种", max_length=24, blank=True)
    maintenance = models.BooleanField("维护窗口", default=False)
    starts_at = models.DateTimeField("开始")
    ends_at = models.DateTimeField("结束")
    reason = models.CharField("原因", max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="设置人",
    )

    class Meta:
        verbose_name = "静默/维护窗口"
        verbose_name_plural = "静默/维护窗口"
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"{self.reason}({self.starts_at:%m-%d %H:%M}–{self.ends_at:%m-%d %H:%M})"


class RegionalLevel(models.Model):
    """The highest active alarm level per street/district and hazard."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, verbose_name="区划")
    hazard = models.CharField("灾种", max_length=24)
    level = models.CharField("级别", max_length=8, blank=True)
    alarm_ids = models.JSONField(default=list)
    updated_at = models.DateTimeField("更新")

    class Meta:
        verbose_name = "区域报警级别"
        verbose_name_plural = "区域报警级别"
        constraints = [
            models.UniqueConstraint(fields=["region", "hazard"], name="uniq_regional_level")
        ]


class AlarmGroup(models.Model):
    """Notification grouping state (Alertmanager's group): one per (district, hazard)."""

    key = models.CharField(max_length=80, unique=True)
    first_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "报警分组"
        verbose_name_plural = "报警分组"


class IngestToken(models.Model):
    """A bearer token for the HTTP bulk endpoint (only its SHA-256 is stored)."""

    name = models.CharField("名称", max_length=100)
    token_sha256 = models.CharField(max_length=64, unique=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, verbose_name="部门"
    )
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "接入令牌"
        verbose_name_plural = "接入令牌"

    def __str__(self) -> str:
        return self.name
