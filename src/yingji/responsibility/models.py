"""The responsibility system's records. This first part: the 三防责任人 register
(objects, the people responsible for each, the annual update per district with
its deadlines). Duty lists, letters, review and the annual assessment follow."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from yingji.core.models import Region
from yingji.responsibility import roster
from yingji.responsibility.duties import LETTERS

OBJECT_KIND_CHOICES = [(k, v[0]) for k, v in roster.OBJECT_KINDS.items()]
ROLE_CHOICES = list(roster.ROLE_KINDS.items())


class DutyObject(models.Model):
    """What a 三防责任人 answers for: an administrative area, a reservoir, an
    embankment, a flash-flood danger zone, a geological-hazard point, a
    waterlogging point, a construction site …, in the region it lies in (its
    level is the region's: city, district, street, community)."""

    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name="所在区划"
    )
    kind = models.CharField("对象类型", max_length=16, choices=OBJECT_KIND_CHOICES)
    name = models.CharField("名称", max_length=200)
    code = models.CharField("对象编码", max_length=64, blank=True)
    lon = models.FloatField("经度(WGS-84)", null=True, blank=True)
    lat = models.FloatField("纬度(WGS-84)", null=True, blank=True)

    class Meta:
        verbose_name = "三防责任对象"
        verbose_name_plural = "三防责任对象"
        ordering = ["region_id", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "kind", "name"], name="responsibility_object_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}({self.get_kind_display()})"


class Responsible(models.Model):
    """One 三防责任人: the person holding one kind of responsibility (行政, 技术,
    巡查) for one object. Replacing the person is an update of this row (audited:
    who changed whom, when)."""

    obj = models.ForeignKey(
        DutyObject, on_delete=models.CASCADE, related_name="people", verbose_name="责任对象"
    )
    role = models.CharField("责任人类别", max_length=12, choices=ROLE_CHOICES)
    name = models.CharField("姓名", max_length=64)
    post = models.CharField("单位及职务", max_length=200)
    phone = models.CharField(
        "手机", max_length=32, help_text="用于一键通和预警短信;公示页只显示部分号码"
    )
    public_phone = models.CharField(
        "公示电话", max_length=32, blank=True, help_text="公示页完整显示的值班或办公电话"
    )
    term_start = models.DateField("任期开始", null=True, blank=True)
    term_end = models.DateField("任期结束", null=True, blank=True)
    app_installed_on = models.DateField("一键通安装日期", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "三防责任人"
        verbose_name_plural = "三防责任人"
        ordering = ["obj__region_id", "obj__name", "role"]
        constraints = [
            models.UniqueConstraint(fields=["obj", "role"], name="responsibility_one_per_role")
        ]

    def __str__(self) -> str:
        return f"{self.name}({self.obj.name}{self.get_role_display()})"


class RegisterRound(models.Model):
    """A district's annual update of the register before the flood season: the
    deadline to confirm the register, the deadline for every person to have
    installed 一键通, and who confirmed it when."""

    year = models.PositiveIntegerField("年度")
    district = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name="区"
    )
    update_deadline = models.DateField("更新截止日期")
    app_deadline = models.DateField("一键通安装截止日期")
    confirmed_at = models.DateTimeField("确认更新时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="确认人",
    )

    class Meta:
        verbose_name = "责任人年度更新"
        verbose_name_plural = "责任人年度更新"
        ordering = ["-year", "district_id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "district"], name="responsibility_round_unique")
        ]

    def __str__(self) -> str:
        return f"{self.year} 年{self.district.name}三防责任人更新"


# ---- 述职 review and the annual assessment

from yingji.core.models import Department  # noqa: E402
from yingji.responsibility import scoring  # noqa: E402

GROUP_CHOICES = list(scoring.GROUPS.items())


class IndicatorSet(models.Model):
    """One year's indicator system (考核指标体系), kept as data: a new year copies
    the last one and is changed there; a past year's stays as it was scored."""

    year = models.PositiveIntegerField("年度", unique=True)
    title = models.CharField("名称", max_length=200)
    threshold = models.FloatField(
        "复核差异阈值(分)", default=2.0, help_text="两名考核人员对同一指标的评分相差超过此值须协调"
    )
    bottom_n = models.PositiveSmallIntegerField(
        "每组末位约谈数", default=2, help_text="每组排名末位的这几个单位提请约谈(并列者一并列入)"
    )
    published_at = models.DateTimeField("结果发布时间", null=True, blank=True)

    class Meta:
        verbose_name = "年度考核指标体系"
        verbose_name_plural = "年度考核指标体系"
        ordering = ["-year"]

    def __str__(self) -> str:
        return self.title


class Indicator(models.Model):
    """One indicator of a year's system, for one group: its points, its kind
    (computed from platform data, scored on evidence, a deduction, a bonus, a
    veto), and for a computed one the feed and rule that make its points."""

    indicator_set = models.ForeignKey(
        IndicatorSet, on_delete=models.CASCADE, related_name="indicators", verbose_name="指标体系"
    )
    group = models.CharField("考核对象组", max_length=12, choices=GROUP_CHOICES)
    code = models.CharField("编号", max_length=16)
    name = models.CharField("指标", max_length=200)
    kind = models.CharField("类型", max_length=12, choices=list(scoring.KINDS.items()))
    max_points = models.FloatField("分值(上限)")
    feed = models.CharField("数据来源", max_length=32, blank=True, help_text="平台数据计算项的来源")
    rule = models.CharField(
        "计算规则", max_length=16, blank=True, choices=list(scoring.RULES.items())
    )
    params = models.JSONField("规则参数", default=dict, blank=True)
    guidance = models.TextField("评分标准", blank=True)
    order = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "考核指标"
        verbose_name_plural = "考核指标"
        ordering = ["indicator_set", "group", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator_set", "group", "code"], name="responsibility_indicator_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def pure(self) -> scoring.Indicator:
        return scoring.Indicator(
            self.code, self.name, self.kind, self.max_points, self.rule, self.params or {}
        )


class Sheet(models.Model):
    """One assessed district or city department's score sheet for a year."""

    class State(models.TextChoices):
        OPEN = "open", "待评分"
        SCORED = "scored", "已初评,待复核"
        DIFFER = "differ", "复核有差异,待协调"
        AGREED = "agreed", "已确认"

    indicator_set = models.ForeignKey(
        IndicatorSet, on_delete=models.CASCADE, related_name="sheets", verbose_name="指标体系"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name="被考核单位"
    )
    group = models.CharField("考核对象组", max_length=12, choices=GROUP_CHOICES)
    state = models.CharField("状态", max_length=8, choices=State.choices, default=State.OPEN)
    first_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="初评人",
    )
    second_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="复核人",
    )
    total = models.FloatField("总分", null=True, blank=True)
    vetoed = models.BooleanField("一票否决", default=False)
    veto_reason = models.CharField("否决原因", max_length=500, blank=True)
    rank = models.PositiveSmallIntegerField("组内排名", null=True, blank=True)
    computed_at = models.DateTimeField("平台数据计算时间", null=True, blank=True)

    class Meta:
        verbose_name = "考核评分表"
        verbose_name_plural = "考核评分表"
        ordering = ["indicator_set", "group", "rank", "department__sort_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator_set", "department"], name="responsibility_sheet_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator_set.year} 年{self.department.name}考核评分表"


class Score(models.Model):
    """One indicator on one sheet: the platform's figure (computed items), the
    first assessor's and the checker's values, and the final value (agreed, or
    reconciled with a reason)."""

    sheet = models.ForeignKey(Sheet, on_delete=models.CASCADE, related_name="scores")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    metric = models.JSONField("平台数据", default=dict, blank=True)
    computed = models.FloatField("计算得分", null=True, blank=True)
    first = models.FloatField("初评分", null=True, blank=True)
    second = models.FloatField("复核分", null=True, blank=True)
    final = models.FloatField("确认分", null=True, blank=True)
    note = models.CharField("评分说明", max_length=500, blank=True)
    reason = models.CharField("协调理由", max_length=500, blank=True)

    class Meta:
        verbose_name = "指标得分"
        verbose_name_plural = "指标得分"
        ordering = ["sheet", "indicator__order", "indicator__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["sheet", "indicator"], name="responsibility_score_unique"
            )
        ]


class Evidence(models.Model):
    """A file the assessed unit uploads for an indicator scored on evidence."""

    sheet = models.ForeignKey(Sheet, on_delete=models.CASCADE, related_name="evidence")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    file = models.FileField("文件", upload_to="responsibility/evidence/")
    note = models.CharField("说明", max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "考核佐证材料"
        verbose_name_plural = "考核佐证材料"
        ordering = ["sheet", "indicator", "uploaded_at"]


class Interview(models.Model):
    """约谈: proposed for the bottom of a group, held (date, attendees, problems,
    rectification deadline), closed once the rectification is reported done."""

    class State(models.TextChoices):
        PROPOSED = "proposed", "拟约谈"
        HELD = "held", "已约谈,整改中"
        CLOSED = "closed", "整改完成,已销号"

    sheet = models.OneToOneField(Sheet, on_delete=models.CASCADE, related_name="interview")
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PROPOSED)
    held_on = models.DateField("约谈日期", null=True, blank=True)
    attendees = models.TextField("参加人员", blank=True)
    problems = models.TextField("指出的问题", blank=True)
    deadline = models.DateField("整改期限", null=True, blank=True)
    rectification = models.TextField("整改情况", blank=True)
    closed_on = models.DateField("销号日期", null=True, blank=True)

    class Meta:
        verbose_name = "约谈"
        verbose_name_plural = "约谈"
        ordering = ["sheet__indicator_set", "sheet__group", "sheet__rank"]


class ReviewSession(models.Model):
    """A district head's safety 述职 before the reviewers (两代表一委员 and others)."""

    class State(models.TextChoices):
        OPEN = "open", "评议中"
        CLOSED = "closed", "已汇总"
        SENT = "sent", "结果已送达"

    year = models.PositiveIntegerField("年度")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name="述职单位"
    )
    speaker = models.CharField("述职人", max_length=100)
    held_on = models.DateField("述职日期")
    method = models.CharField(
        "汇总方式", max_length=8, choices=list(scoring.METHODS.items()), default="trimmed"
    )
    trim = models.PositiveSmallIntegerField("去掉最高最低各几个", default=1)
    state = models.CharField("状态", max_length=8, choices=State.choices, default=State.OPEN)
    result = models.FloatField("评议得分", null=True, blank=True)
    comments = models.TextField("评议意见汇总", blank=True)
    sent_at = models.DateTimeField("送达时间", null=True, blank=True)

    class Meta:
        verbose_name = "述职评议"
        verbose_name_plural = "述职评议"
        ordering = ["-year", "held_on", "department__sort_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "department"], name="responsibility_review_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} 年{self.department.name}安全生产述职"


class Reviewer(models.Model):
    class Kind(models.TextChoices):
        NPC = "npc", "人大代表"
        CPPCC = "cppcc", "政协委员"
        OTHER = "other", "其他评议人"

    session = models.ForeignKey(ReviewSession, on_delete=models.CASCADE, related_name="reviewers")
    name = models.CharField("姓名", max_length=64)
    kind = models.CharField("身份", max_length=8, choices=Kind.choices)
    affiliation = models.CharField("单位/界别", max_length=200, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="平台账号",
    )
    items = models.JSONField("分项得分", default=dict, blank=True)
    total = models.FloatField("评分", null=True, blank=True)
    comment = models.TextField("评议意见", blank=True)
    scored_at = models.DateTimeField("评分时间", null=True, blank=True)

    class Meta:
        verbose_name = "评议人"
        verbose_name_plural = "评议人"
        ordering = ["session", "kind", "pk"]

    def __str__(self) -> str:
        return f"{self.name}({self.get_kind_display()})"


# ---- leaders' duty lists and 巡查 (seed 12)


class Leader(models.Model):
    """A party or government leader with safety duties (党政同责、一岗双责)."""

    class Side(models.TextChoices):
        PARTY = "party", "党委"
        GOVERNMENT = "government", "政府"

    name = models.CharField("姓名", max_length=64)
    post = models.CharField("职务", max_length=200)
    side = models.CharField("党委/政府", max_length=12, choices=Side.choices)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name="所在区划"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="平台账号",
    )
    active = models.BooleanField("在任", default=True)

    class Meta:
        verbose_name = "党政领导干部"
        verbose_name_plural = "党政领导干部"
        ordering = ["region_id", "side", "name"]

    def __str__(self) -> str:
        return f"{self.name}({self.post})"


class DutyList(models.Model):
    """A leader's 安全生产职责清单 (standing duties) or annual 工作清单 (items with
    due dates) for one year, with the number of 巡查 the year requires."""

    class Kind(models.TextChoices):
        DUTIES = "duties", "职责清单"
        WORK = "work", "工作清单"

    leader = models.ForeignKey(
        Leader, on_delete=models.CASCADE, related_name="lists", verbose_name="领导干部"
    )
    year = models.PositiveIntegerField("年度")
    kind = models.CharField("清单类型", max_length=8, choices=Kind.choices)
    patrols_required = models.PositiveIntegerField("年度巡查次数要求", default=0)

    class Meta:
        verbose_name = "领导干部清单"
        verbose_name_plural = "领导干部清单"
        ordering = ["-year", "leader_id", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["leader", "year", "kind"], name="responsibility_list_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.leader.name} {self.year} 年{self.get_kind_display()}"


class DutyItem(models.Model):
    duty_list = models.ForeignKey(
        DutyList, on_delete=models.CASCADE, related_name="items", verbose_name="清单"
    )
    text = models.CharField("内容", max_length=500)
    due = models.DateField("完成时限", null=True, blank=True)
    done_on = models.DateField("完成日期", null=True, blank=True)
    note = models.CharField("完成情况", max_length=500, blank=True)

    class Meta:
        verbose_name = "清单事项"
        verbose_name_plural = "清单事项"
        ordering = ["duty_list_id", "due", "pk"]

    def __str__(self) -> str:
        return self.text[:40]


class Patrol(models.Model):
    """One 巡查 by a leader: when, where, what was found; each problem at an
    enterprise becomes a hazard in the risk register (linked back by origin)."""

    leader = models.ForeignKey(
        Leader, on_delete=models.CASCADE, related_name="patrols", verbose_name="领导干部"
    )
    on = models.DateField("巡查日期")
    place = models.CharField("巡查地点", max_length=200)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name="所在区划"
    )
    summary = models.TextField("巡查情况", blank=True)

    class Meta:
        verbose_name = "领导巡查记录"
        verbose_name_plural = "领导巡查记录"
        ordering = ["-on", "pk"]

    def __str__(self) -> str:
        return f"{self.leader.name} {self.on} {self.place}"


# ---- responsibility letters (seed 13)


class LetterTemplate(models.Model):
    """The year's 责任书 template with its indicators (code, text, target, weight),
    which the annual assessment then tracks."""

    year = models.PositiveIntegerField("年度", unique=True)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("正文", blank=True)
    indicators = models.JSONField("指标", default=list)

    class Meta:
        verbose_name = "责任书模板"
        verbose_name_plural = "责任书模板"
        ordering = ["-year"]

    def __str__(self) -> str:
        return self.title


class Letter(models.Model):
    """One signed (or to be signed) letter between the city and a district or a
    city department; its indicators start as the template's, targets may differ."""

    template = models.ForeignKey(
        LetterTemplate, on_delete=models.PROTECT, related_name="letters", verbose_name="模板"
    )
    party = models.ForeignKey(
        "core.Department", on_delete=models.PROTECT, related_name="+", verbose_name="签订单位"
    )
    state = models.CharField("状态", max_length=12, choices=LETTERS.choices(), default="drafting")
    indicators = models.JSONField("指标", default=list)
    signed_on = models.DateField("签订日期", null=True, blank=True)
    signed_by = models.CharField("签订人", max_length=64, blank=True)
    scan = models.FileField("签字盖章扫描件", upload_to="responsibility/letters/", blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "责任书"
        verbose_name_plural = "责任书"
        ordering = ["template_id", "party_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "party"], name="responsibility_letter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.template.year} 年责任书:{self.party}"
