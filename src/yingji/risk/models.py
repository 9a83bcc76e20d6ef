"""风险隐患与事故 (risk): persistence only.

Enterprises and public sites, risk points with their assessments (four-colour
grade history), hidden hazards with their rectification loop, and accidents.
Derived values (enterprise grade, accident level, hazard district/industry) are
stored for filtering speed but always computed by the services, never typed.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from yingji.core.models import Department, Region
from yingji.risk import accidents as accident_rules
from yingji.risk.categories import ACCIDENT_TYPES, HAZARD_CATEGORIES
from yingji.risk.hazardflow import STATE_LABELS


class Grade(models.TextChoices):
    """Four-colour risk grade (风险分级), red highest."""

    RED = "red", "重大风险(红)"
    ORANGE = "orange", "较大风险(橙)"
    YELLOW = "yellow", "一般风险(黄)"
    BLUE = "blue", "低风险(蓝)"


class Enterprise(models.Model):
    """A production/business unit under safety supervision (生产经营单位)."""

    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True)
    name = models.CharField("单位名称", max_length=200, db_index=True)
    address = models.CharField("地址", max_length=300, blank=True)
    district = models.ForeignKey(
        Region,
        verbose_name="所属区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    street = models.ForeignKey(
        Region,
        verbose_name="所属镇街",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lon = models.FloatField("经度(WGS-84)", null=True, blank=True)
    lat = models.FloatField("纬度(WGS-84)", null=True, blank=True)
    industry_code = models.CharField("行业代码(GB/T 4754-2017)", max_length=5, db_index=True)
    key_categories = models.JSONField(
        "重点行业领域", default=list, blank=True, help_text="categories.KEY_CATEGORIES 中的代码列表"
    )
    has_major_hazard_installation = models.BooleanField("涉及重大危险源", default=False)
    supervising_department = models.ForeignKey(
        Department,
        verbose_name="行业监管部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_enterprises",
    )
    supervision_overridden = models.BooleanField(
        "监管部门人工指定",
        default=False,
        help_text="勾选后不再按“三管三必须”行业对照表自动确定监管部门。",
    )
    grade = models.CharField(
        "风险等级",
        max_length=8,
        choices=Grade.choices,
        blank=True,
        help_text="取其风险点的最高等级",
        db_index=True,
    )
    contact_person = models.CharField("安全负责人", max_length=64, blank=True)
    contact_phone = models.CharField("联系电话", max_length=32, blank=True)
    employees = models.PositiveIntegerField("从业人数", null=True, blank=True)
    active = models.BooleanField("在业", default=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "企业"
        verbose_name_plural = "企业"
        ordering = ["name"]
        indexes = [models.Index(fields=["district", "industry_code"])]

    def __str__(self) -> str:
        return self.name


class RiskPoint(models.Model):
    """A risk point (风险点) of an enterprise, or of a public site when no
    enterprise owns it; graded by its latest assessment."""

    code = models.CharField("风险点编号", max_length=40, unique=True)
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="所属企业",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="risk_points",
    )
    site_name = models.CharField(
        "公共场所名称", max_length=200, blank=True, help_text="无所属企业的公共场所填写"
    )
    name = models.CharField("风险点名称", max_length=200)
    location = models.CharField("部位", max_length=200, blank=True)
    district = models.ForeignKey(
        Region,
        verbose_name="所属区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    street = models.ForeignKey(
        Region,
        verbose_name="所属镇街",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lon = models.FloatField("经度(WGS-84)", null=True, blank=True)
    lat = models.FloatField("纬度(WGS-84)", null=True, blank=True)
    hazard_factors = models.TextField("危险有害因素", blank=True)
    control_measures = models.TextField("管控措施", blank=True)
    responsible_person = models.CharField("管控责任人", max_length=64, blank=True)
    responsible_phone = models.CharField("责任人电话", max_length=32, blank=True)
    grade = models.CharField(
        "风险等级", max_length=8, choices=Grade.choices, blank=True, db_index=True
    )
    assessed_on = models.DateField("最近评估日期", null=True, blank=True)
    active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "风险点"
        verbose_name_plural = "风险点"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RiskAssessment(models.Model):
    """One assessment of a risk point (LEC or LS); the sequence is the grade history."""

    class Method(models.TextChoices):
        LEC = "lec", "作业条件危险性分析法(LEC)"
        LS = "ls", "风险矩阵法(LS)"

    risk_point = models.ForeignKey(
        RiskPoint, verbose_name="风险点", on_delete=models.CASCADE, related_name="assessments"
    )
    method = models.CharField("评估方法", max_length=4, choices=Method.choices)
    likelihood = models.FloatField("L 可能性")
    exposure = models.FloatField("E 暴露频繁程度", null=True, blank=True)
    consequence = models.FloatField("C/S 后果严重程度")
    score = models.FloatField("D/R 风险值")
    grade = models.CharField("风险等级", max_length=8, choices=Grade.choices)
    assessed_on = models.DateField("评估日期")
    assessor = models.CharField("评估人", max_length=64, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = "风险评估"
        verbose_name_plural = "风险评估(等级历史)"
        ordering = ["-assessed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.risk_point_id} {self.assessed_on} {self.get_grade_display()}"


class Hazard(models.Model):
    """A hidden hazard (事故隐患) and where it stands in the rectification loop."""

    class Level(models.TextChoices):
        GENERAL = "general", "一般隐患"
        MAJOR = "major", "重大事故隐患"

    class Source(models.TextChoices):
        SELF_INSPECTION = "self_inspection", "企业自查"
        REGULATOR_INSPECTION = "regulator_inspection", "监管检查"
        PUBLIC_REPORT = "public_report", "群众举报"
        UNANNOUNCED_VISIT = "unannounced_visit", "明查暗访"
        ENFORCEMENT = "enforcement", "执法检查"

    State = models.TextChoices(
        "State", [(k.name, (k.value, label)) for k, label in STATE_LABELS.items()]
    )

    code = models.CharField("隐患编号", max_length=40, unique=True)
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="hazards"
    )
    risk_point = models.ForeignKey(
        RiskPoint,
        verbose_name="关联风险点",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hazards",
    )
    level = models.CharField("隐患等级", max_length=8, choices=Level.choices, default=Level.GENERAL)
    source = models.CharField("来源", max_length=24, choices=Source.choices)
    category = models.CharField(
        "类别", max_length=24, choices=list(HAZARD_CATEGORIES.items()), default="other"
    )
    description = models.TextField("隐患描述")
    location = models.CharField("隐患部位", max_length=200, blank=True)
    state = models.CharField("状态", max_length=12, choices=State.choices, default="reported")
    found_on = models.DateField("发现日期")
    deadline = models.DateField("整改期限", null=True, blank=True)
    # Copied from the enterprise when the hazard is created or the enterprise
    # changes, so the ledger filters by district/industry/department without joins.
    district = models.ForeignKey(
        Region,
        verbose_name="所属区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    street = models.ForeignKey(
        Region,
        verbose_name="所属镇街",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    industry_code = models.CharField("行业代码", max_length=5, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name="监管部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="risk_hazards",
    )
    responsible_person = models.CharField("整改责任人", max_length=64, blank=True)
    listed = models.BooleanField("挂牌督办", default=False)
    listed_on = models.DateField("挂牌日期", null=True, blank=True)
    listed_by = models.ForeignKey(
        Department,
        verbose_name="挂牌督办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_on = models.DateField("提请验收日期", null=True, blank=True)
    accepted_on = models.DateField("验收日期", null=True, blank=True)
    closed_on = models.DateField("销号日期", null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上报人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Generic origin: e.g. the inspection finding that created this hazard.
    origin_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="来源对象类型"
    )
    origin_id = models.CharField("来源对象编号", max_length=64, blank=True)
    origin = GenericForeignKey("origin_type", "origin_id")
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "隐患"
        verbose_name_plural = "隐患台账"
        ordering = ["-found_on", "-id"]
        indexes = [
            models.Index(fields=["state", "deadline"]),
            models.Index(fields=["district", "state"]),
            models.Index(fields=["industry_code", "state"]),
            models.Index(fields=["department", "state"]),
            models.Index(fields=["-found_on", "-id"]),
            models.Index(fields=["origin_type", "origin_id"]),
            # The ledger lists newest first: one filter plus the order, walked in index order.
            models.Index(
                fields=["district", "-found_on", "-id"], name="risk_hazard_district_recent"
            ),
            models.Index(fields=["state", "-found_on", "-id"], name="risk_hazard_state_recent"),
            models.Index(
                fields=["industry_code", "-found_on", "-id"], name="risk_hazard_industry_recent"
            ),
            # Covering indexes of the two whole-ledger aggregations: the dashboard's
            # counts per state and level (with the deadline for overdue) and the
            # report's open hazards per enterprise (top 10), read from the index alone.
            models.Index(fields=["state", "level", "deadline"], name="risk_hazard_state_level"),
            models.Index(
                fields=["enterprise", "found_on", "closed_on", "level"],
                name="risk_hazard_enterprise_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description[:30]}"


class RectificationPlan(models.Model):
    """The "五到位" rectification plan of a major hazard (整改方案)."""

    hazard = models.OneToOneField(
        Hazard, verbose_name="隐患", on_delete=models.CASCADE, related_name="plan"
    )
    goals = models.TextField("治理目标和任务", blank=True)
    measures = models.TextField("整改措施", blank=True)
    funds = models.CharField("资金和物资", max_length=300, blank=True)
    deadline = models.DateField("整改期限", null=True, blank=True)
    responsible_person = models.CharField("责任人", max_length=64, blank=True)
    contingency_plan = models.TextField("安全措施和应急预案", blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "整改方案(五到位)"
        verbose_name_plural = "整改方案(五到位)"

    def __str__(self) -> str:
        return f"{self.hazard.code} 整改方案"


class HazardEvidence(models.Model):
    """A file documenting a hazard or its rectification (photos, reports)."""

    class Kind(models.TextChoices):
        FOUND = "found", "隐患照片"
        RECTIFIED = "rectified", "整改佐证"
        ACCEPTANCE = "acceptance", "验收材料"

    hazard = models.ForeignKey(
        Hazard, verbose_name="隐患", on_delete=models.CASCADE, related_name="evidence"
    )
    kind = models.CharField("类别", max_length=12, choices=Kind.choices, default=Kind.FOUND)
    file = models.FileField("文件", upload_to="risk/evidence/%Y/%m/")
    note = models.CharField("说明", max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="上传人",
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "隐患佐证材料"
        verbose_name_plural = "隐患佐证材料"

    def __str__(self) -> str:
        return f"{self.hazard_id} {self.get_kind_display()}"


class HazardEvent(models.Model):
    """One step of a hazard's timeline: a transition or a supervision action."""

    hazard = models.ForeignKey(
        Hazard, verbose_name="隐患", on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField("操作", max_length=16)
    from_state = models.CharField("原状态", max_length=12, blank=True)
    to_state = models.CharField("新状态", max_length=12, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="操作人",
    )
    actor_label = models.CharField("操作人(记录时)", max_length=64, blank=True)
    on = models.DateField("日期")
    at = models.DateTimeField("记录时间", auto_now_add=True)
    comment = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "隐患处理记录"
        verbose_name_plural = "隐患处理记录"
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.hazard_id} {self.action} {self.on}"


class Recheck(models.Model):
    """回头看: a re-check of a closed hazard some working days after closing."""

    hazard = models.ForeignKey(
        Hazard, verbose_name="隐患", on_delete=models.CASCADE, related_name="rechecks"
    )
    due = models.DateField("计划复查日期", db_index=True)
    done_on = models.DateField("复查日期", null=True, blank=True)
    passed = models.BooleanField("复查合格", null=True, blank=True)
    note = models.CharField("复查情况", max_length=300, blank=True)

    class Meta:
        verbose_name = "回头看复查"
        verbose_name_plural = "回头看复查"
        ordering = ["due"]
        constraints = [models.UniqueConstraint(fields=["hazard", "due"], name="risk_recheck_once")]

    def __str__(self) -> str:
        return f"{self.hazard_id} 回头看 {self.due}"


class Accident(models.Model):
    """A production-safety accident (生产安全事故); its level is computed from
    deaths (incl. missing), serious injuries and direct loss, never typed."""

    class Level(models.TextChoices):
        GENERAL = "general", "一般事故"
        LARGER = "larger", "较大事故"
        MAJOR = "major", "重大事故"
        EXTRAORDINARY = "extraordinary", "特别重大事故"

    code = models.CharField("事故编号", max_length=40, unique=True)
    occurred_at = models.DateTimeField("发生时间", db_index=True)
    place = models.CharField("发生地点", max_length=300, blank=True)
    lon = models.FloatField("经度(WGS-84)", null=True, blank=True)
    lat = models.FloatField("纬度(WGS-84)", null=True, blank=True)
    district = models.ForeignKey(
        Region,
        verbose_name="所属区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    street = models.ForeignKey(
        Region,
        verbose_name="所属镇街",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="事故单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accidents",
    )
    industry_code = models.CharField("行业代码", max_length=5, blank=True, db_index=True)
    accident_type = models.CharField(
        "事故类别", max_length=20, choices=list(ACCIDENT_TYPES.items())
    )
    deaths = models.PositiveIntegerField("死亡人数", default=0)
    missing = models.PositiveIntegerField("失踪人数", default=0)
    serious_injuries = models.PositiveIntegerField("重伤人数", default=0)
    direct_loss = models.DecimalField(
        "直接经济损失(万元)", max_digits=12, decimal_places=2, default=0
    )
    level = models.CharField("事故等级", max_length=14, choices=Level.choices, editable=False)
    description = models.TextField("事故简要经过", blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = "生产安全事故"
        verbose_name_plural = "生产安全事故"
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["district", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.code} {self.occurred_at:%Y-%m-%d} {self.get_level_display()}"

    def save(self, *args, **kwargs) -> None:
        # The level is derived on every save (admin, import, API alike).
        self.level = accident_rules.level(
            self.deaths, self.serious_injuries, self.direct_loss, self.missing
        )
        super().save(*args, **kwargs)


class DecreaseTarget(models.Model):
    """The year's "双下降" target: at most this many accidents and deaths
    (defaults, when no row exists: fewer than the year before)."""

    year = models.PositiveIntegerField("年度", unique=True)
    max_accidents = models.PositiveIntegerField("事故起数控制目标")
    max_deaths = models.PositiveIntegerField("死亡人数控制目标")
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "双下降目标"
        verbose_name_plural = "双下降目标"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year} 双下降目标"


class LedgerImport(models.Model):
    """One Excel ledger import: its progress and, at the end, its report."""

    class Kind(models.TextChoices):
        ENTERPRISES = "enterprises", "企业名录"
        RISK_POINTS = "risk_points", "风险点清单"
        HAZARDS = "hazards", "隐患台账"

    class Status(models.TextChoices):
        RUNNING = "running", "导入中"
        DONE = "done", "已完成"
        FAILED = "failed", "未导入(有错误)"

    kind = models.CharField("台账类别", max_length=12, choices=Kind.choices)
    filename = models.CharField("文件名", max_length=200)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.RUNNING)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    processed_rows = models.PositiveIntegerField("已处理行数", default=0)
    created = models.PositiveIntegerField("新增", default=0)
    updated = models.PositiveIntegerField("更新", default=0)
    unchanged = models.PositiveIntegerField("未变化", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True)
    changed_keys = models.JSONField(
        "变更的记录", default=dict, blank=True, help_text="新增和更新的记录编号"
    )
    valid_only = models.BooleanField("仅导入有效行", default=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="导入人",
    )
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "台账导入记录"
        verbose_name_plural = "台账导入记录"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename}"
