"""执法检查 (enforcement): persistence only.

Registers (matters with their checklists, inspectors with certificates,
districts and declared conflicts, complaints), the annual supervision plan with
its published seed and its draws (the draw log), inspections with findings,
penalty cases, the exemption list, the serious-dishonesty list and publications.
The entity register is the risk module's enterprise registry (risk.Enterprise).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from yingji.core.models import Department, Region
from yingji.enforcement.casefsm import MACHINE as CASE_MACHINE
from yingji.enforcement.lookbackrules import CONCLUSION_LABELS as LOOKBACK_CONCLUSION_LABELS
from yingji.enforcement.lookbackrules import MACHINE as LOOKBACK_MACHINE
from yingji.enforcement.lookbackrules import STATE_LABELS as LOOKBACK_STATE_LABELS


class Matter(models.Model):
    """An inspectable matter (检查事项清单) of one category, with its checklist."""

    code = models.CharField("事项编码", max_length=32, unique=True)
    name = models.CharField("检查事项", max_length=200)
    category = models.CharField(
        "行业领域",
        max_length=32,
        db_index=True,
        help_text="risk.categories.KEY_CATEGORIES 的代码,或 general(一般工贸)",
    )
    basis = models.TextField("检查依据", blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name="实施部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    checklist = models.JSONField(
        "检查表",
        default=list,
        blank=True,
        help_text='[{"code": "WH-01", "text": "…", "basis": "《安全生产法》第…条"}]',
    )
    active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "检查事项"
        verbose_name_plural = "检查事项清单"
        ordering = ["category", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Inspector(models.Model):
    """A law-enforcement officer (执法人员名录) with an enforcement certificate."""

    name = models.CharField("姓名", max_length=64)
    certificate_number = models.CharField("执法证号", max_length=32, unique=True)
    certificate_valid_from = models.DateField("执法证生效日期")
    certificate_valid_to = models.DateField("执法证有效期至")
    department = models.ForeignKey(
        Department,
        verbose_name="所在部门",
        on_delete=models.PROTECT,
        related_name="enforcement_inspectors",
    )
    districts = models.ManyToManyField(
        Region, verbose_name="负责辖区", related_name="+", help_text="区级区划;选市级表示全市"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="平台账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inspector",
    )
    active = models.BooleanField("在岗", default=True)

    class Meta:
        verbose_name = "执法人员"
        verbose_name_plural = "执法人员名录"
        ordering = ["certificate_number"]

    def __str__(self) -> str:
        return f"{self.name}({self.certificate_number})"


class ConflictDeclaration(models.Model):
    """A declared conflict of interest (利益冲突申报): never sent to that entity."""

    inspector = models.ForeignKey(
        Inspector, verbose_name="执法人员", on_delete=models.CASCADE, related_name="conflicts"
    )
    enterprise = models.ForeignKey(
        "risk.Enterprise", verbose_name="企业", on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField("回避事由", max_length=200)
    declared_on = models.DateField("申报日期")

    class Meta:
        verbose_name = "利益冲突申报"
        verbose_name_plural = "利益冲突申报"
        constraints = [
            models.UniqueConstraint(fields=["inspector", "enterprise"], name="enf_conflict_once")
        ]

    def __str__(self) -> str:
        return f"{self.inspector} 回避 {self.enterprise}"


class Complaint(models.Model):
    """A complaint or report (投诉举报) about an entity: raises its draw weight."""

    enterprise = models.ForeignKey(
        "risk.Enterprise", verbose_name="被投诉企业", on_delete=models.CASCADE, related_name="+"
    )
    received_on = models.DateField("受理日期")
    summary = models.CharField("内容摘要", max_length=300)

    class Meta:
        verbose_name = "投诉举报"
        verbose_name_plural = "投诉举报"
        ordering = ["-received_on"]

    def __str__(self) -> str:
        return f"{self.received_on} {self.enterprise}"


def default_weights() -> dict:
    return {
        "major_hazard_installation": 2.0,
        "open_major_hazard": 3.0,
        "complaint": 1.5,
        "complaint_cap": 3,
        "dishonest": 3.0,
    }


class InspectionPlan(models.Model):
    """The annual supervision-inspection plan (年度监督检查计划) and its seed.

    The seed is fixed before the draw: first the public source is announced
    (e.g. "中国福利彩票双色球 2022001 期开奖号码"), then its value is recorded once
    known; the seed is the SHA-256 of that value."""

    year = models.PositiveIntegerField("年度")
    title = models.CharField("名称", max_length=200)
    department = models.ForeignKey(
        Department, verbose_name="制定部门", on_delete=models.PROTECT, related_name="+"
    )
    proportions = models.JSONField(
        "各领域抽查比例",
        default=dict,
        blank=True,
        help_text='{"hc_production": 0.2, …};未列出的领域用默认比例',
    )
    default_proportion = models.FloatField("默认抽查比例", default=0.05)
    weights = models.JSONField("加权系数", default=default_weights)
    inspectors_per_entity = models.PositiveSmallIntegerField("每户执法人员数", default=2)
    max_per_inspector = models.PositiveSmallIntegerField(
        "每名执法人员每次抽取的检查上限",
        null=True,
        blank=True,
        help_text="空表示不设上限;设上限可避免负责多个辖区的执法人员任务过重",
    )
    key_date_count = models.PositiveSmallIntegerField(
        "关键节点明查暗访户数", default=3, help_text="每个关键节点(春节、清明…)额外抽取的户数"
    )
    key_date_categories = models.JSONField(
        "明查暗访领域", default=list, blank=True, help_text="空表示全部领域"
    )
    publication_workdays = models.PositiveSmallIntegerField(
        "结果公示时限(工作日)",
        default=20,
        help_text="检查完成后多少个工作日内公示(各地规定不一,可配置)",
    )
    seed_source = models.CharField("随机种子来源(公开值)", max_length=200, blank=True)
    seed_announced_at = models.DateTimeField("种子来源公布时间", null=True, blank=True)
    seed_salt_sha256 = models.CharField(
        "盐值承诺(SHA-256)",
        max_length=64,
        blank=True,
        help_text="公布来源时一并公布;盐值在检查时段结束后随抽取输入公开",
    )
    seed_salt = models.CharField("盐值", max_length=64, blank=True)
    seed_value = models.CharField("公开值", max_length=500, blank=True)
    seed = models.CharField("随机种子(SHA-256)", max_length=64, blank=True)
    seed_fixed_at = models.DateTimeField("种子确定时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "年度监督检查计划"
        verbose_name_plural = "年度监督检查计划"
        ordering = ["-year", "title"]

    def __str__(self) -> str:
        return self.title


class Draw(models.Model):
    """The draw log (抽取记录): inputs, seed, algorithm version and result of one
    draw, failed ones included. The inputs document is what is published."""

    class Kind(models.TextChoices):
        ANNUAL = "annual", "年度双随机抽查"
        KEY_DATE = "key_date", "关键节点明查暗访"

    class Status(models.TextChoices):
        DONE = "done", "已完成"
        IMPOSSIBLE = "impossible", "无法完成"

    plan = models.ForeignKey(
        InspectionPlan, verbose_name="计划", on_delete=models.CASCADE, related_name="draws"
    )
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    label = models.CharField("名称", max_length=64)
    seed = models.CharField("本次种子", max_length=64)
    algorithm = models.CharField("算法版本", max_length=32)
    inputs = models.JSONField("输入(名录快照与参数)")
    inputs_sha256 = models.CharField("输入摘要", max_length=64)
    result = models.JSONField("结果", null=True, blank=True)
    result_sha256 = models.CharField("结果摘要", max_length=64, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices)
    explanation = models.TextField("无法完成的原因", blank=True)
    drawn_at = models.DateTimeField("抽取时间")
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "抽取记录"
        verbose_name_plural = "抽取记录"
        ordering = ["plan", "drawn_at", "id"]

    def __str__(self) -> str:
        return f"{self.plan.year} {self.label}({self.get_status_display()})"

    @property
    def last_verification(self) -> DrawVerification | None:
        return self.verifications.order_by("-at", "-id").first()

    @property
    def verified_at(self):
        v = self.last_verification
        return v.at if v else None

    @property
    def verified_ok(self) -> bool | None:
        v = self.last_verification
        return v.ok if v else None


class DrawVerification(models.Model):
    """One re-run of a draw from its recorded inputs. Kept apart from the draw so
    the draw log itself is written once and never changes."""

    draw = models.ForeignKey(
        Draw, verbose_name="抽取记录", on_delete=models.CASCADE, related_name="verifications"
    )
    at = models.DateTimeField("复核时间")
    ok = models.BooleanField("一致")
    inputs_ok = models.BooleanField("输入摘要一致")
    result_sha256 = models.CharField("重新运行的结果摘要", max_length=64, blank=True)
    message = models.CharField("结论", max_length=300)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "抽取复核"
        verbose_name_plural = "抽取复核"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.draw} 复核 {self.at:%Y-%m-%d %H:%M}"


class Inspection(models.Model):
    """One inspection of one enterprise: planned by a draw, then carried out."""

    class Kind(models.TextChoices):
        DOUBLE_RANDOM = "double_random", "双随机抽查"
        UNANNOUNCED = "unannounced", "明查暗访"

    class State(models.TextChoices):
        PLANNED = "planned", "待检查"
        DONE = "done", "已检查"

    class Outcome(models.TextChoices):
        COMPLIANT = "compliant", "未发现问题"
        RECTIFY = "rectify", "责令整改"
        CASE = "case", "立案查处"

    plan = models.ForeignKey(
        InspectionPlan, verbose_name="计划", on_delete=models.CASCADE, related_name="inspections"
    )
    draw = models.ForeignKey(
        Draw, verbose_name="抽取记录", on_delete=models.PROTECT, related_name="inspections"
    )
    enterprise = models.ForeignKey(
        "risk.Enterprise", verbose_name="检查对象", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    category = models.CharField("行业领域", max_length=32, db_index=True)
    window_label = models.CharField("检查时段", max_length=32)
    window_start = models.DateField("时段开始")
    window_end = models.DateField("时段结束", db_index=True)
    inspectors = models.ManyToManyField(
        Inspector, verbose_name="执法人员", related_name="inspections"
    )
    district = models.ForeignKey(
        Region,
        verbose_name="所属区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        Department, verbose_name="实施部门", on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField("状态", max_length=8, choices=State.choices, default=State.PLANNED)
    inspected_on = models.DateField("检查日期", null=True, blank=True)
    checklist = models.JSONField(
        "检查表结果",
        default=list,
        blank=True,
        help_text='[{"code", "text", "ok": true/false, "note"}]',
    )
    outcome = models.CharField("检查结论", max_length=12, choices=Outcome.choices, blank=True)
    summary = models.TextField("检查情况", blank=True)
    publish_by = models.DateField("应公示日期", null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = "检查记录"
        verbose_name_plural = "检查记录"
        ordering = ["window_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["draw", "enterprise"], name="enf_inspection_once_per_draw"
            )
        ]

    def __str__(self) -> str:
        return f"{self.window_label} {self.enterprise}"


class ExemptionRule(models.Model):
    """An entry of the penalty exemption list (免处罚清单): see exemption.py."""

    code = models.CharField("编号", max_length=16, unique=True)
    title = models.CharField("违法行为", max_length=200)
    clause = models.CharField("依据条款", max_length=300)
    checklist_codes = models.JSONField(
        "适用检查项", default=list, blank=True, help_text="空表示所有检查项"
    )
    general_only = models.BooleanField("仅限一般隐患", default=True)
    first_offence = models.BooleanField("须首次违法", default=True)
    corrected = models.BooleanField("须及时改正", default=True)
    no_harm = models.BooleanField("须未造成危害后果", default=True)
    order = models.PositiveSmallIntegerField("顺序", default=100)
    active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "免处罚清单条目"
        verbose_name_plural = "免处罚清单"
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Finding(models.Model):
    """A problem found in an inspection: becomes a hazard in the risk module, and
    either an exemption (with its clause) or a penalty case."""

    inspection = models.ForeignKey(
        Inspection, verbose_name="检查记录", on_delete=models.CASCADE, related_name="findings"
    )
    checklist_code = models.CharField("检查项", max_length=32)
    description = models.TextField("问题描述")
    major = models.BooleanField("重大事故隐患", default=False)
    corrected = models.BooleanField("已在期限内改正", default=False)
    harm = models.BooleanField("已造成危害后果", default=False)
    hazard = models.OneToOneField(
        "risk.Hazard",
        verbose_name="隐患",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    exemption = models.ForeignKey(
        ExemptionRule,
        verbose_name="免处罚依据",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    exemption_clause = models.CharField("免罚条款", max_length=300, blank=True)
    exemption_note = models.CharField("未免罚原因", max_length=500, blank=True)

    class Meta:
        verbose_name = "检查发现问题"
        verbose_name_plural = "检查发现问题"
        ordering = ["inspection", "id"]

    def __str__(self) -> str:
        return f"{self.checklist_code} {self.description[:30]}"


class PenaltyCase(models.Model):
    """An administrative penalty case (行政处罚案件); state per casefsm.py."""

    # (value, label) pairs from the pure table: the functional TextChoices API would
    # take them as (name, value) and show "filed" instead of 立案.
    STATE_CHOICES = CASE_MACHINE.choices()

    number = models.CharField("案号", max_length=40, unique=True)
    enterprise = models.ForeignKey(
        "risk.Enterprise", verbose_name="当事人", on_delete=models.PROTECT, related_name="+"
    )
    inspection = models.ForeignKey(
        Inspection,
        verbose_name="来源检查",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    findings = models.ManyToManyField(
        Finding, verbose_name="违法事实", related_name="cases", blank=True
    )
    department = models.ForeignKey(
        Department, verbose_name="办案部门", on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        Region,
        verbose_name="所属区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    category = models.CharField("行业领域", max_length=32, blank=True)
    state = models.CharField("状态", max_length=16, choices=STATE_CHOICES, default="filed")
    opened_on = models.DateField("立案日期")
    proposed_amount = models.DecimalField(
        "拟罚款(元)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    amount = models.DecimalField("罚款(元)", max_digits=12, decimal_places=2, null=True, blank=True)
    decided_on = models.DateField("决定日期", null=True, blank=True)
    closed_on = models.DateField("结案日期", null=True, blank=True)
    outcome = models.CharField("结案方式", max_length=32, blank=True)

    class Meta:
        verbose_name = "行政处罚案件"
        verbose_name_plural = "行政处罚案件"
        ordering = ["-opened_on", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.get_state_display()}"


class CaseEvent(models.Model):
    """One step of a case (a transition) with its document text."""

    case = models.ForeignKey(
        PenaltyCase, verbose_name="案件", on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField("操作", max_length=32)
    from_state = models.CharField("原状态", max_length=16)
    to_state = models.CharField("新状态", max_length=16)
    on = models.DateField("日期")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="操作人",
    )
    actor_label = models.CharField("操作人(记录时)", max_length=64)
    comment = models.TextField("说明", blank=True)
    amount = models.DecimalField("金额(元)", max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = "案件办理记录"
        verbose_name_plural = "案件办理记录"
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.on}"

    ACTION_LABELS = {"file": "立案"}  # the case's opening, not a move of the table

    @property
    def action_label(self) -> str:
        t = CASE_MACHINE.by_action.get(self.action)
        return t.label if t else self.ACTION_LABELS.get(self.action, self.action)

    @property
    def change(self) -> str:
        """The change in words: "调查取证 → 告知", or the first state alone."""
        to = CASE_MACHINE.label(self.to_state)
        return f"{CASE_MACHINE.label(self.from_state)} → {to}" if self.from_state else to


JOINT_PUNISHMENTS = {
    "public_disclosure": "信用中国等平台公示",
    "bidding_restriction": "限制参与政府采购、招投标",
    "financing_restriction": "限制融资授信",
    "subsidy_restriction": "限制财政资金补助",
    "frequent_inspection": "提高检查频次(下一轮抽查加权)",
    "honour_restriction": "取消评优评先资格",
}


class DishonestyListing(models.Model):
    """An entry on the serious-dishonesty list (安全生产严重失信主体名单,
    应急管理部令第11号): "who penalises decides"; period and early removal configurable."""

    enterprise = models.ForeignKey(
        "risk.Enterprise", verbose_name="失信主体", on_delete=models.PROTECT, related_name="+"
    )
    case = models.ForeignKey(
        PenaltyCase,
        verbose_name="依据案件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="listings",
    )
    basis = models.TextField("列入依据")
    decided_by = models.ForeignKey(
        Department, verbose_name="作出决定的部门", on_delete=models.PROTECT, related_name="+"
    )
    listed_on = models.DateField("列入日期")
    period_months = models.PositiveSmallIntegerField("公示期(月)", default=36)
    expires_on = models.DateField("期满日期")
    joint_punishments = models.JSONField("联合惩戒措施", default=list, blank=True)
    removed_on = models.DateField("提前移出日期", null=True, blank=True)
    removal_reason = models.CharField("提前移出理由(信用修复)", max_length=300, blank=True)

    class Meta:
        verbose_name = "严重失信主体"
        verbose_name_plural = "严重失信主体名单"
        ordering = ["-listed_on"]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.listed_on}"

    @property
    def joint_punishment_labels(self) -> list[str]:
        return [JOINT_PUNISHMENTS.get(k, k) for k in self.joint_punishments or []]


class Publication(models.Model):
    """The public result of one inspection (一公开), shown on the public page."""

    inspection = models.OneToOneField(
        Inspection, verbose_name="检查记录", on_delete=models.CASCADE, related_name="publication"
    )
    enterprise_name = models.CharField("检查对象", max_length=200)
    credit_code = models.CharField("统一社会信用代码", max_length=18)
    matter = models.CharField("检查事项", max_length=200)
    inspected_on = models.DateField("检查日期")
    result = models.TextField("检查结果")
    published_at = models.DateTimeField("公示时间")
    late_workdays = models.IntegerField("超期(工作日)", default=0)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="发布人",
    )

    class Meta:
        verbose_name = "结果公示"
        verbose_name_plural = "结果公示"
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return f"{self.enterprise_name} {self.inspected_on}"


# ---------------------------------------------------------------- accident look-back (回头看)


class LookbackCase(models.Model):
    """The look-back evaluation (事故整改评估/"回头看") of one accident: opened for
    every 较大-or-higher accident and for accidents marked typical; state per
    lookbackrules.py."""

    class Reason(models.TextChoices):
        LEVEL = "level", "较大及以上事故"
        TYPICAL = "typical", "典型事故"

    STATE_CHOICES = LOOKBACK_MACHINE.choices()
    CONCLUSION_CHOICES = [(k.value, v) for k, v in LOOKBACK_CONCLUSION_LABELS.items()]

    accident = models.OneToOneField(
        "risk.Accident", verbose_name="事故", on_delete=models.PROTECT, related_name="lookback"
    )
    reason = models.CharField("开展原因", max_length=8, choices=Reason.choices)
    typical = models.BooleanField("典型事故", default=False)
    typical_reason = models.CharField("列为典型的理由", max_length=300, blank=True)
    department = models.ForeignKey(
        Department, verbose_name="评估牵头部门", on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        Region,
        verbose_name="所属区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_on = models.DateField("启动日期")
    report_approved_on = models.DateField("调查报告批复日期", null=True, blank=True)
    report_approver = models.CharField("批复机关", max_length=100, blank=True)
    due_on = models.DateField(
        "评估期限",
        null=True,
        blank=True,
        db_index=True,
        help_text="批复后一年内(可配置),由批复日期计算",
    )
    state = models.CharField("状态", max_length=12, choices=STATE_CHOICES, default="pending")
    derived_conclusion = models.CharField(
        "按落实情况应得结论", max_length=12, choices=CONCLUSION_CHOICES, blank=True
    )
    conclusion = models.CharField("评估结论", max_length=12, choices=CONCLUSION_CHOICES, blank=True)
    override_reason = models.TextField("结论调整理由", blank=True)
    evaluated_on = models.DateField("评估日期", null=True, blank=True)
    closed_on = models.DateField("办结日期", null=True, blank=True)

    class Meta:
        verbose_name = "事故整改评估(回头看)"
        verbose_name_plural = "事故整改评估(回头看)"
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"{self.accident.code} 回头看({self.get_state_display()})"


class LookbackItem(models.Model):
    """One item of the investigation report: an accountability recommendation
    (责任追究建议) or a rectification measure (整改措施)."""

    class Kind(models.TextChoices):
        ACCOUNTABILITY = "accountability", "责任追究建议"
        MEASURE = "measure", "整改措施"

    class Sanction(models.TextChoices):
        DISCIPLINE = "discipline", "党纪政务处分"
        PENALTY = "penalty", "行政处罚"
        JUDICIAL = "judicial", "移送司法机关"
        OTHER = "other", "其他"

    class Status(models.TextChoices):
        PENDING = "pending", "未落实"
        IN_PROGRESS = "in_progress", "落实中"
        DONE = "done", "已落实"

    case = models.ForeignKey(
        LookbackCase, verbose_name="评估", on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField("类别", max_length=16, choices=Kind.choices)
    text = models.TextField(
        "内容", help_text="责任追究建议:被追责的人员或单位及事由;整改措施:措施内容"
    )
    sanction = models.CharField("追责方式", max_length=12, choices=Sanction.choices, blank=True)
    responsible = models.CharField(
        "落实主体", max_length=200, help_text="负责落实的机关、部门或企业"
    )
    responsible_department = models.ForeignKey(
        Department,
        verbose_name="落实部门(平台内)",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="逾期提醒发给该部门",
    )
    enterprise = models.ForeignKey(
        "risk.Enterprise",
        verbose_name="整改企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    deadline_workdays = models.PositiveSmallIntegerField("落实时限(工作日)", null=True, blank=True)
    deadline = models.DateField("落实期限", null=True, blank=True, db_index=True)
    status = models.CharField(
        "落实情况", max_length=12, choices=Status.choices, default=Status.PENDING
    )
    done_on = models.DateField("落实日期", null=True, blank=True)
    evidence = models.TextField("落实依据/佐证", blank=True)
    hazard = models.OneToOneField(
        "risk.Hazard",
        verbose_name="转为隐患",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "调查报告落实事项"
        verbose_name_plural = "调查报告落实事项"
        ordering = ["case", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.text[:30]}"


class LookbackEvent(models.Model):
    """The timeline of a look-back: moves of the evaluation and item progress."""

    case = models.ForeignKey(
        LookbackCase, verbose_name="评估", on_delete=models.CASCADE, related_name="events"
    )
    item = models.ForeignKey(
        LookbackItem,
        verbose_name="事项",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    action = models.CharField("操作", max_length=32)
    from_state = models.CharField("原状态", max_length=12, blank=True)
    to_state = models.CharField("新状态", max_length=12, blank=True)
    on = models.DateField("日期")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="操作人",
    )
    actor_label = models.CharField("操作人(记录时)", max_length=64)
    comment = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "回头看记录"
        verbose_name_plural = "回头看记录"
        ordering = ["case", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.on}"

    ACTION_LABELS = {
        "open": "启动评估",
        "typical": "认定典型事故",
        "report": "录入调查报告批复",
        "add_item": "录入事项",
        "progress": "报送落实情况",
        "hazard": "转为隐患",
    }

    @property
    def action_label(self) -> str:
        from yingji.enforcement.lookbackrules import BY_ACTION

        t = BY_ACTION.get(self.action)
        return t.label if t else self.ACTION_LABELS.get(self.action, self.action)

    @property
    def change(self) -> str:
        """The change in words: evaluation states, or an item's status."""
        labels = dict(LookbackItem.Status.choices) if self.item_id else LOOKBACK_STATE_LABELS
        if not self.to_state:
            return ""
        to = labels.get(self.to_state, self.to_state)
        return f"{labels.get(self.from_state, self.from_state)} → {to}" if self.from_state else to
