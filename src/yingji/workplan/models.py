"""Work-plan supervision (工作要点督办): persistence only.

Status is never stored: it is derived (workplan/status.py) from dates, milestones,
reports and pauses as of any date, so the board and bulletins of a past month come
out as they stood then.
"""

from django.conf import settings
from django.db import models

from yingji.core.models import Department


def default_weights() -> dict:
    return {"on_time": 0.5, "completeness": 0.3, "punctuality": 0.2}


class Plan(models.Model):
    title = models.CharField("标题", max_length=200)
    year = models.PositiveIntegerField("年度")
    preamble = models.TextField("总体要求", blank=True)
    goals = models.JSONField("目标", default=list, blank=True)
    source_name = models.CharField("来源文件", max_length=255, blank=True)
    source_sha256 = models.CharField("文件摘要", max_length=64, unique=True)
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name="导入人",
    )
    score_weights = models.JSONField(
        "评分权重", default=default_weights, help_text="按时完成率、完成度、报送及时率的权重"
    )
    reminder_workdays = models.PositiveSmallIntegerField("到期前提醒(工作日)", default=3)
    response_workdays = models.PositiveSmallIntegerField("督办单回复时限(工作日)", default=3)
    report_by_workday = models.PositiveSmallIntegerField(
        "月度进展报送截止(次月第几个工作日)", default=5
    )

    class Meta:
        verbose_name = "工作要点"
        verbose_name_plural = "工作要点"
        ordering = ["-year", "title"]

    def __str__(self) -> str:
        return self.title


class Section(models.Model):
    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="sections", verbose_name="工作要点"
    )
    number = models.PositiveSmallIntegerField("序号")
    title = models.CharField("标题", max_length=200)

    class Meta:
        verbose_name = "部分"
        verbose_name_plural = "部分"
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="uniq_section")]

    def __str__(self) -> str:
        return self.title


class Recurrence(models.TextChoices):
    MONTHLY = "monthly", "每月"
    QUARTERLY = "quarterly", "每季度"
    YEARLY = "yearly", "每年"


def short_text(text: str) -> str:
    """A task's short title: its first sentence, at most 40 characters."""
    first = text.split("。")[0]
    return first if len(first) <= 40 else first[:39] + "…"


class Task(models.Model):
    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="tasks", verbose_name="工作要点"
    )
    section = models.ForeignKey(
        Section, on_delete=models.CASCADE, related_name="tasks", verbose_name="部分"
    )
    number = models.PositiveSmallIntegerField("序号")
    # A three-level plan's （一） heading the task sits under (blank in two-level plans).
    subsection = models.CharField("小节", max_length=200, blank=True)
    text = models.TextField("任务内容")
    due = models.DateField("完成时限", null=True, blank=True)
    recurrence = models.CharField("周期", max_length=12, choices=Recurrence.choices, blank=True)
    key_dates = models.JSONField("关键时间节点", default=list, blank=True)
    # Owners that are no department of the register ("各区政府", "各镇(园区)",
    # "市安委会各成员单位"), as written; they own the task but file no reports.
    collective_owners = models.JSONField("集体责任单位", default=list, blank=True)
    departments = models.ManyToManyField(
        Department, through="Assignment", related_name="tasks", verbose_name="责任单位"
    )

    class Meta:
        verbose_name = "任务"
        verbose_name_plural = "任务"
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="uniq_task")]

    def __str__(self) -> str:
        return f"{self.number}. {self.short}"

    @property
    def short(self) -> str:
        return short_text(self.text)


OWNERS_PENDING = "待明确责任单位"  # what a task without a lead department shows


class Clause(models.Model):
    """A part of a task with its own owners (task 47 of the seed)."""

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="clauses", verbose_name="任务"
    )
    position = models.PositiveSmallIntegerField("顺序")
    text = models.TextField("内容")
    collective_owners = models.JSONField("集体责任单位", default=list, blank=True)

    class Meta:
        verbose_name = "分项"
        verbose_name_plural = "分项"
        ordering = ["task", "position"]

    def __str__(self) -> str:
        return self.text[:40]


class Assignment(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", "牵头"
        CO = "co", "配合"

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="assignments", verbose_name="任务"
    )
    clause = models.ForeignKey(
        Clause,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assignments",
        verbose_name="分项",
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="assignments", verbose_name="单位"
    )
    role = models.CharField("职责", max_length=4, choices=Role.choices)
    position = models.PositiveSmallIntegerField("排序", default=0)
    name_as_written = models.CharField("文件中的写法", max_length=64)

    class Meta:
        verbose_name = "责任分工"
        verbose_name_plural = "责任分工"
        ordering = ["task", "clause", "position"]

    def __str__(self) -> str:
        return f"{self.task.number} {self.department}({self.get_role_display()})"


class Milestone(models.Model):
    """A dated checkpoint: the task's deadline, one instance of a recurring task
    (a quarterly task has four), or one added by the lead department."""

    class Kind(models.TextChoices):
        DEADLINE = "deadline", "完成时限"
        RECURRENCE = "recurrence", "周期任务"
        CUSTOM = "custom", "阶段节点"

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="milestones", verbose_name="任务"
    )
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    title = models.CharField("名称", max_length=120)
    due = models.DateField("截止日期")
    completed_on = models.DateField("完成日期", null=True, blank=True)

    class Meta:
        verbose_name = "节点"
        verbose_name_plural = "节点"
        ordering = ["task", "due"]
        indexes = [models.Index(fields=["due"])]

    def __str__(self) -> str:
        return f"{self.task.number} {self.title}"


class ProgressReport(models.Model):
    """Progress filed by a department. A co-organiser's report goes to the lead;
    the lead's goes to the office (and drives the task's status)."""

    class AddressedTo(models.TextChoices):
        LEAD = "lead", "牵头处室"
        OFFICE = "office", "办公室"

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="reports", verbose_name="任务"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name="报送单位"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="报送人",
    )
    addressed_to = models.CharField("报送对象", max_length=8, choices=AddressedTo.choices)
    reported_at = models.DateTimeField("报送时间", db_index=True)
    percent = models.PositiveSmallIntegerField("完成进度(%)")
    text = models.TextField("进展情况")
    milestone = models.ForeignKey(
        Milestone,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        verbose_name="完成节点",
    )

    class Meta:
        verbose_name = "进展报告"
        verbose_name_plural = "进展报告"
        ordering = ["-reported_at"]
        indexes = [models.Index(fields=["task", "addressed_to", "reported_at"])]

    def __str__(self) -> str:
        return f"{self.task.number} {self.department} {self.percent}%"


class ReportAttachment(models.Model):
    report = models.ForeignKey(
        ProgressReport,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name="进展报告",
    )
    file = models.FileField("附件", upload_to="workplan/reports/%Y/%m/")
    name = models.CharField("文件名", max_length=255)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"

    def __str__(self) -> str:
        return self.name


class Pause(models.Model):
    """暂缓: the only status set by hand, with a reason, and only once approved."""

    class State(models.TextChoices):
        REQUESTED = "requested", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "已驳回"
        LIFTED = "lifted", "已恢复"

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="pauses", verbose_name="任务"
    )
    reason = models.TextField("暂缓理由")
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="申请人",
    )
    requested_at = models.DateTimeField("申请时间")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="审批人",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    lifted_at = models.DateTimeField("恢复时间", null=True, blank=True)

    class Meta:
        verbose_name = "暂缓申请"
        verbose_name_plural = "暂缓申请"
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.task.number} 暂缓({self.get_state_display()})"


class SupervisionNotice(models.Model):
    """督办单 to the lead department of a late task; escalated to a leader when
    not answered in time."""

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="notices", verbose_name="任务"
    )
    milestone = models.ForeignKey(
        Milestone,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notices",
        verbose_name="节点",
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name="督办单位"
    )
    serial = models.CharField("编号", max_length=40, unique=True)
    issued_at = models.DateTimeField("下发时间", db_index=True)
    reason = models.TextField("督办事由")
    respond_by = models.DateField("回复时限")
    responded_at = models.DateTimeField("回复时间", null=True, blank=True)
    response = models.TextField("回复内容", blank=True)
    escalated_at = models.DateTimeField("升级时间", null=True, blank=True)

    class Meta:
        verbose_name = "督办单"
        verbose_name_plural = "督办单"
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(fields=["task", "milestone"], name="uniq_notice_per_milestone"),
        ]

    def __str__(self) -> str:
        return self.serial


class Bulletin(models.Model):
    """通报: a dated snapshot. `data` holds everything it says, so re-rendering
    gives the same document; regenerating for the same date gives the same data."""

    class Period(models.TextChoices):
        MONTHLY = "monthly", "月度"
        QUARTERLY = "quarterly", "季度"

    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="bulletins", verbose_name="工作要点"
    )
    period = models.CharField("周期", max_length=10, choices=Period.choices)
    label = models.CharField("期别", max_length=40)
    as_of = models.DateField("数据截至")
    generated_at = models.DateTimeField("生成时间", auto_now_add=True)
    data = models.JSONField("内容数据")

    class Meta:
        verbose_name = "通报"
        verbose_name_plural = "通报"
        ordering = ["-as_of"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "period", "as_of"], name="uniq_bulletin"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.year}年{self.label}通报"
