"""应急指挥与处置 (response): persistence only.

Duty (shifts, handover), incidents (reports, timeline), digital plans (triggers,
organisation, action-card templates), activations and their action cards,
resources (teams, warehouses and stocks, shelters, helipads, hospitals),
dispatch orders, shelter allocations and drills. Logic lives in levels.py,
triggers.py, cards.py, dispatch.py, drills.py (pure) and services.py.
"""

from django.conf import settings
from django.db import models

from yingji.core.models import Department, Region
from yingji.response import addressees, cards, dispatch
from yingji.response.levels import LABELS, RESPONSE_LABELS

LEVEL_CHOICES = list(LABELS.items())
RESPONSE_CHOICES = list(RESPONSE_LABELS.items())


class DutyShift(models.Model):
    """One 24-hour duty shift; several departments on it make it a joint duty (联合值守)."""

    starts_at = models.DateTimeField("开始", db_index=True)
    ends_at = models.DateTimeField("结束")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="duty_shifts",
        verbose_name="值班员",
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leader_shifts",
        verbose_name="带班领导",
    )
    departments = models.ManyToManyField(Department, blank=True, verbose_name="联合值守部门")
    period = models.CharField(
        "关键时段", max_length=64, blank=True, help_text="节假日或特殊时段名称;非空即为联合值守"
    )

    class Meta:
        verbose_name = "值班班次"
        verbose_name_plural = "值班表"
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d} {self.officer}"


class HandoverEntry(models.Model):
    """交接班记录: what the outgoing shift hands over."""

    shift = models.ForeignKey(
        DutyShift, on_delete=models.CASCADE, related_name="handovers", verbose_name="班次"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, verbose_name="记录人"
    )
    at = models.DateTimeField("时间")
    text = models.TextField("交接内容")

    class Meta:
        verbose_name = "交接班记录"
        verbose_name_plural = "交接班记录"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.text[:30]}"


class Incident(models.Model):
    """突发事件. Its level is computed (levels.compute_level), never typed."""

    class Status(models.TextChoices):
        REGISTERED = "registered", "已接报"
        RESPONDING = "responding", "响应中"
        STOOD_DOWN = "stood_down", "已终止响应"
        CLOSED = "closed", "已结案"

    class Source(models.TextChoices):
        DESK = "desk", "值班接报"
        ALARM = "alarm", "监测报警"
        ALERT = "alert", "预警信息"
        API = "api", "接口"
        DRILL = "drill", "演练注入"

    title = models.CharField("事件名称", max_length=200)
    category = models.CharField("类别", max_length=16)
    incident_type = models.CharField("类型", max_length=32)
    occurred_at = models.DateTimeField("发生时间", db_index=True)
    lon = models.FloatField("经度(WGS-84)", null=True, blank=True)
    lat = models.FloatField("纬度(WGS-84)", null=True, blank=True)
    address = models.CharField("地点", max_length=200, blank=True)
    district = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="区"
    )
    street = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="镇街",
    )
    deaths = models.PositiveIntegerField("死亡", default=0)
    missing = models.PositiveIntegerField("失踪", default=0)
    injured = models.PositiveIntegerField("重伤", default=0)
    economic_loss = models.FloatField("直接经济损失(万元)", default=0)
    evacuated = models.PositiveIntegerField("紧急转移安置", default=0)
    level = models.CharField("事件级别", max_length=4, choices=LEVEL_CHOICES, default="IV")
    level_reasons = models.JSONField("定级依据", default=list, blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=Status.choices, default=Status.REGISTERED, db_index=True
    )
    source = models.CharField("来源", max_length=8, choices=Source.choices, default=Source.DESK)
    source_ref = models.CharField("来源编号", max_length=100, blank=True)
    summary = models.TextField("情况摘要", blank=True)
    is_exercise = models.BooleanField("演练", default=False, db_index=True)
    drill = models.ForeignKey(
        "Drill",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
        verbose_name="所属演练",
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="接报人",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "突发事件"
        verbose_name_plural = "突发事件"
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{'【演练】' if self.is_exercise else ''}{self.title}"


class IncidentReport(models.Model):
    """续报: numbers as they stand at a time; the latest replaces the incident's."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="reports", verbose_name="事件"
    )
    at = models.DateTimeField("续报时间")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name="报告人",
    )
    text = models.TextField("续报内容")
    deaths = models.PositiveIntegerField("死亡", default=0)
    missing = models.PositiveIntegerField("失踪", default=0)
    injured = models.PositiveIntegerField("重伤", default=0)
    economic_loss = models.FloatField("直接经济损失(万元)", default=0)
    evacuated = models.PositiveIntegerField("紧急转移安置", default=0)

    class Meta:
        verbose_name = "续报"
        verbose_name_plural = "续报"
        ordering = ["at", "id"]


class TimelineEntry(models.Model):
    """Everything that happened to an incident, in order."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="timeline", verbose_name="事件"
    )
    at = models.DateTimeField("时间", db_index=True)
    kind = models.CharField("类别", max_length=24)
    text = models.TextField("内容")
    actor_label = models.CharField("操作人", max_length=64, blank=True)
    data = models.JSONField("数据", default=dict, blank=True)

    class Meta:
        verbose_name = "事件时间线"
        verbose_name_plural = "事件时间线"
        ordering = ["at", "id"]


class DeskItem(models.Model):
    """Something on the duty desk that needs a decision: an alarm or a published
    alert that proposes an incident and plan activations (kind propose), or the
    Cancel / lowering Update of such an alert proposing to lower or stand down
    the activations it triggered (kind stand_down, `actions`)."""

    class Status(models.TextChoices):
        OPEN = "open", "待处置"
        ACCEPTED = "accepted", "已登记事件"
        DISMISSED = "dismissed", "已忽略"
        CONFIRMED = "confirmed", "已确认执行"

    class Kind(models.TextChoices):
        PROPOSE = "propose", "建议启动"
        STAND_DOWN = "stand_down", "建议降级或终止响应"
        CHANNEL = "channel", "投递渠道故障"

    source = models.CharField("来源", max_length=8)  # alarm / alert
    source_ref = models.CharField("来源编号", max_length=100)
    hazard = models.CharField("灾种", max_length=64)
    level = models.CharField("级别", max_length=8)
    region_codes = models.JSONField("区划", default=list)
    title = models.CharField("标题", max_length=200)
    proposals = models.JSONField("建议启动预案", default=list)
    kind = models.CharField("类别", max_length=12, choices=Kind.choices, default=Kind.PROPOSE)
    actions = models.JSONField("建议降级/终止", default=list, blank=True)
    is_exercise = models.BooleanField("演练", default=False)
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="事件"
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "值班待办"
        verbose_name_plural = "值班待办"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_ref", "level", "kind"], name="uniq_desk_item_kind"
            )
        ]


class EmergencyPlan(models.Model):
    """应急预案 in the plan database (预案库)."""

    class Kind(models.TextChoices):
        OVERALL = "overall", "总体预案"
        SPECIAL = "special", "专项预案"
        DEPARTMENT = "department", "部门预案"
        ENTERPRISE = "enterprise", "企业预案"

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        ACTIVE = "active", "现行有效"
        RETIRED = "retired", "已废止"

    title = models.CharField("预案名称", max_length=200)
    kind = models.CharField("类别", max_length=12, choices=Kind.choices, default=Kind.SPECIAL)
    owner = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="编制单位",
    )
    admin_level = models.CharField("层级", max_length=12, default="市级")
    hazard = models.CharField("灾种", max_length=32, blank=True)
    version = models.CharField("版本", max_length=32, default="1.0")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.DRAFT)
    issued_on = models.DateField("印发日期", null=True, blank=True)
    review_due = models.DateField("评估修订日期", null=True, blank=True)
    summary = models.TextField("总则摘要", blank=True)
    resources_needed = models.JSONField("所需资源", default=list, blank=True)
    contacts = models.JSONField("联系人", default=list, blank=True)
    related = models.ManyToManyField("self", blank=True, verbose_name="相关预案")
    previous_version = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="上一版本",
    )
    source_file = models.CharField("导入文件", max_length=200, blank=True)

    class Meta:
        verbose_name = "应急预案"
        verbose_name_plural = "应急预案库"
        ordering = ["kind", "title"]

    def __str__(self) -> str:
        return f"{self.title}({self.version})"


class PlanTrigger(models.Model):
    """Trigger rule: source (incident/alert/alarm) + hazard + level → response level."""

    plan = models.ForeignKey(
        EmergencyPlan, on_delete=models.CASCADE, related_name="triggers", verbose_name="预案"
    )
    source = models.CharField(
        "触发来源",
        max_length=8,
        choices=[("incident", "突发事件"), ("alert", "预警信息"), ("alarm", "监测报警")],
    )
    hazard = models.CharField("灾种/类型", max_length=32)
    min_level = models.CharField("最低级别", max_length=8)
    response_level = models.CharField("响应级别", max_length=4, choices=RESPONSE_CHOICES)

    class Meta:
        verbose_name = "启动条件"
        verbose_name_plural = "启动条件"


class PlanGroup(models.Model):
    """Organisation: the command HQ (指挥部) and its working groups."""

    plan = models.ForeignKey(
        EmergencyPlan, on_delete=models.CASCADE, related_name="groups", verbose_name="预案"
    )
    name = models.CharField("名称", max_length=64)
    duties = models.TextField("职责", blank=True)
    lead = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="牵头单位",
    )
    members = models.ManyToManyField(
        Department, blank=True, related_name="+", verbose_name="成员单位"
    )
    area_members = models.JSONField(
        "属地成员",
        default=list,
        blank=True,
        help_text="area_streets:受影响区域镇街应急办;area_districts:受影响区域区政府",
    )
    order = models.PositiveIntegerField("排序", default=0)

    @property
    def area_member_labels(self) -> list[str]:
        return [addressees.LABELS.get(a, a) for a in self.area_members]

    class Meta:
        verbose_name = "组织机构"
        verbose_name_plural = "组织机构"
        ordering = ["order", "id"]


class CardTemplate(models.Model):
    """An action card of a plan: what a department does at a response level, and how fast.
    Addressed to one department, or to the street or district offices of the
    activation's area (one card each, see addressees.py)."""

    plan = models.ForeignKey(
        EmergencyPlan, on_delete=models.CASCADE, related_name="card_templates", verbose_name="预案"
    )
    response_level = models.CharField("响应级别", max_length=4, choices=RESPONSE_CHOICES)
    addressee = models.CharField(
        "下发对象",
        max_length=16,
        choices=list(addressees.LABELS.items()),
        default=addressees.DEPARTMENT,
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="责任单位",
    )
    title = models.CharField("任务", max_length=200)
    text = models.TextField("措施", blank=True)
    ack_minutes = models.PositiveIntegerField("签收时限(分钟)", default=15)
    limit_minutes = models.PositiveIntegerField("完成时限(分钟)", default=60)
    order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "行动卡模板"
        verbose_name_plural = "行动卡模板"
        ordering = ["response_level", "order", "id"]

    @property
    def addressed_to(self) -> str:
        """The department's name, or what the place-bound addressee means."""
        if self.addressee == addressees.DEPARTMENT and self.department_id:
            return str(self.department)
        return addressees.LABELS.get(self.addressee, self.addressee)


class Activation(models.Model):
    """A plan activated for an incident at a response level."""

    class Status(models.TextChoices):
        ACTIVE = "active", "响应中"
        STOOD_DOWN = "stood_down", "已终止"

    plan = models.ForeignKey(
        EmergencyPlan, on_delete=models.PROTECT, related_name="activations", verbose_name="预案"
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="activations", verbose_name="事件"
    )
    level = models.CharField("响应级别", max_length=4, choices=RESPONSE_CHOICES)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.ACTIVE)
    activated_at = models.DateTimeField("启动时间")
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="启动人",
    )
    stood_down_at = models.DateTimeField("终止时间", null=True, blank=True)
    is_exercise = models.BooleanField("演练", default=False)
    area_codes = models.JSONField(
        "响应区域", default=list, blank=True, help_text="区划代码;镇街、区级行动卡按此下发"
    )

    class Meta:
        verbose_name = "预案启动"
        verbose_name_plural = "预案启动"
        ordering = ["-activated_at"]

    def __str__(self) -> str:
        return f"{self.plan.title} {RESPONSE_LABELS.get(self.level, self.level)}"


class ActionCard(models.Model):
    """行动卡 sent to one department; state changes follow cards.TRANSITIONS."""

    activation = models.ForeignKey(
        Activation, on_delete=models.CASCADE, related_name="cards", verbose_name="预案启动"
    )
    template = models.ForeignKey(
        CardTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="模板",
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name="责任单位"
    )
    level = models.CharField("响应级别", max_length=4, choices=RESPONSE_CHOICES)
    title = models.CharField("任务", max_length=200)
    text = models.TextField("措施", blank=True)
    state = models.CharField(
        "状态", max_length=12, choices=cards.MACHINE.choices(), default=cards.ISSUED, db_index=True
    )
    issued_at = models.DateTimeField("下发时间")
    ack_minutes = models.PositiveIntegerField("签收时限(分钟)")
    limit_minutes = models.PositiveIntegerField("完成时限(分钟)")
    acknowledged_at = models.DateTimeField("签收时间", null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="签收人",
    )
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    result = models.TextField("落实情况", blank=True)
    escalation_level = models.PositiveSmallIntegerField("已升级次数", default=0)

    class Meta:
        verbose_name = "行动卡"
        verbose_name_plural = "行动卡"
        ordering = ["issued_at", "id"]
        indexes = [models.Index(fields=["state", "issued_at"])]

    def clock(self) -> cards.CardClock:
        """The pure view of this card for the timers."""
        return cards.CardClock(
            self.state,
            self.issued_at,
            self.ack_minutes,
            self.limit_minutes,
            self.acknowledged_at,
            self.completed_at,
            self.escalation_level,
        )


class RescueTeam(models.Model):
    """救援队伍: professional or social (社会应急力量)."""

    class Kind(models.TextChoices):
        PROFESSIONAL = "professional", "专业队伍"
        SOCIAL = "social", "社会力量"
        GRASSROOTS = "grassroots", "基层队伍"

    name = models.CharField("队伍名称", max_length=100, unique=True)
    kind = models.CharField("类别", max_length=14, choices=Kind.choices, default=Kind.PROFESSIONAL)
    members = models.PositiveIntegerField("人数", default=0)
    capabilities = models.JSONField("能力", default=list)
    base = models.CharField("驻地", max_length=200, blank=True)
    lon = models.FloatField("经度")
    lat = models.FloatField("纬度")
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="主管单位",
    )
    phone = models.CharField("值班电话", max_length=32, blank=True)
    available = models.BooleanField("可调用", default=True)

    class Meta:
        verbose_name = "救援队伍"
        verbose_name_plural = "救援队伍"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Warehouse(models.Model):
    name = models.CharField("仓库名称", max_length=100, unique=True)
    address = models.CharField("地址", max_length=200, blank=True)
    lon = models.FloatField("经度")
    lat = models.FloatField("纬度")
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="管理单位",
    )

    class Meta:
        verbose_name = "物资仓库"
        verbose_name_plural = "物资仓库"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StockItem(models.Model):
    """Equipment or materials held in a warehouse."""

    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.CASCADE, related_name="stock", verbose_name="仓库"
    )
    name = models.CharField("物资/装备", max_length=100)
    category = models.CharField("类别", max_length=32, blank=True)
    quantity = models.FloatField("数量", default=0)
    unit = models.CharField("单位", max_length=16, blank=True)

    class Meta:
        verbose_name = "库存物资"
        verbose_name_plural = "库存物资"
        constraints = [models.UniqueConstraint(fields=["warehouse", "name"], name="uniq_stock")]


class Shelter(models.Model):
    """应急避护场所."""

    name = models.CharField("场所名称", max_length=100, unique=True)
    grade = models.CharField("类别", max_length=16, default="固定")  # 中心 / 固定 / 紧急
    address = models.CharField("地址", max_length=200, blank=True)
    lon = models.FloatField("经度")
    lat = models.FloatField("纬度")
    capacity = models.PositiveIntegerField("容纳人数")
    area_m2 = models.FloatField("有效面积(㎡)", default=0)
    facilities = models.JSONField("设施", default=list, blank=True)
    is_open = models.BooleanField("已开放", default=False)
    occupancy = models.PositiveIntegerField("在场人数", default=0)
    street = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="镇街",
    )

    class Meta:
        verbose_name = "避护场所"
        verbose_name_plural = "避护场所"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def free(self) -> int:
        return max(self.capacity - self.occupancy, 0)


class Helipad(models.Model):
    name = models.CharField("停机坪", max_length=100, unique=True)
    lon = models.FloatField("经度")
    lat = models.FloatField("纬度")
    surface = models.CharField("类型", max_length=32, blank=True)  # 楼顶 / 地面
    night_capable = models.BooleanField("可夜航", default=False)

    class Meta:
        verbose_name = "直升机停机坪"
        verbose_name_plural = "直升机停机坪"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Hospital(models.Model):
    name = models.CharField("医院", max_length=100, unique=True)
    grade = models.CharField("等级", max_length=16, blank=True)
    lon = models.FloatField("经度")
    lat = models.FloatField("纬度")
    beds = models.PositiveIntegerField("床位", default=0)

    class Meta:
        verbose_name = "医院"
        verbose_name_plural = "医院"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DispatchOrder(models.Model):
    """调度指令 to a team: ordered → en route → on scene → returned."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="dispatches", verbose_name="事件"
    )
    team = models.ForeignKey(
        RescueTeam, on_delete=models.PROTECT, related_name="dispatches", verbose_name="队伍"
    )
    state = models.CharField(
        "状态", max_length=10, choices=dispatch.ORDER_MACHINE.choices(), default=dispatch.ORDERED
    )
    distance_km = models.FloatField("距离(公里)", default=0)
    task = models.CharField("任务", max_length=200, blank=True)
    ordered_at = models.DateTimeField("下令时间")
    en_route_at = models.DateTimeField("出发时间", null=True, blank=True)
    on_scene_at = models.DateTimeField("到场时间", null=True, blank=True)
    returned_at = models.DateTimeField("返回时间", null=True, blank=True)

    class Meta:
        verbose_name = "调度指令"
        verbose_name_plural = "调度指令"
        ordering = ["ordered_at", "id"]


class ShelterAllocation(models.Model):
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="allocations", verbose_name="事件"
    )
    shelter = models.ForeignKey(
        Shelter, on_delete=models.PROTECT, related_name="allocations", verbose_name="避护场所"
    )
    people = models.PositiveIntegerField("安置人数")
    distance_km = models.FloatField("距离(公里)", default=0)
    at = models.DateTimeField("时间")

    class Meta:
        verbose_name = "安置分配"
        verbose_name_plural = "安置分配"


class Drill(models.Model):
    """演练: a scenario script injected on a schedule; blind (双盲) tells nobody in advance."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "待开始"
        RUNNING = "running", "进行中"
        FINISHED = "finished", "已结束"

    title = models.CharField("演练名称", max_length=200)
    plan = models.ForeignKey(
        EmergencyPlan,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="drills",
        verbose_name="检验预案",
    )
    blind = models.BooleanField("双盲", default=False)
    scenario = models.JSONField("情景脚本", default=list)
    scheduled_at = models.DateTimeField("计划开始")
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    injected = models.JSONField("已注入步骤", default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="组织人",
    )

    class Meta:
        verbose_name = "演练"
        verbose_name_plural = "演练"
        ordering = ["-scheduled_at"]

    def __str__(self) -> str:
        return self.title
