"""Core registries every module lives in: regions, departments, people and roles,
the audit log, the notification outbox and special periods of the calendar."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class RegionLevel(models.TextChoices):
    CITY = "city", "市"
    DISTRICT = "district", "区"
    STREET = "street", "镇街"
    COMMUNITY = "community", "村居"


class Region(models.Model):
    """An administrative division. Codes follow GB/T 2260 (6 digits, city and
    district) and the NBS extension (9 digits street, 12 digits community)."""

    code = models.CharField("区划代码", max_length=12, primary_key=True)
    name = models.CharField("名称", max_length=64)
    level = models.CharField("层级", max_length=12, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    boundary = models.JSONField("边界(GeoJSON, WGS-84)", null=True, blank=True)
    boundary_synthetic = models.BooleanField(
        "边界为合成示意",
        default=False,
        help_text="无公开边界数据时按示意方法合成,仅供演示,不可作为法定边界。",
    )
    boundary_source = models.CharField("边界来源", max_length=200, blank=True)
    centroid_lat = models.FloatField("中心纬度", null=True, blank=True)
    centroid_lon = models.FloatField("中心经度", null=True, blank=True)

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]
        indexes = [models.Index(fields=["level", "name"])]

    def __str__(self) -> str:
        return f"{self.name}({self.code})"


class DepartmentKind(models.TextChoices):
    BUREAU_DEPT = "bureau_dept", "局内处室"
    BUREAU_UNIT = "bureau_unit", "局属单位"
    DISTRICT_GOV = "district_gov", "区政府"
    MUNICIPAL = "municipal", "市直部门"
    STREET_OFFICE = "street_office", "镇街应急办"
    OTHER = "other", "其他单位"


class Department(models.Model):
    name = models.CharField("名称", max_length=64, unique=True)
    kind = models.CharField(
        "类别", max_length=16, choices=DepartmentKind.choices, default=DepartmentKind.BUREAU_DEPT
    )
    region = models.ForeignKey(
        Region, verbose_name="所属区划", null=True, blank=True, on_delete=models.PROTECT
    )
    email = models.EmailField("通知邮箱", blank=True)
    active = models.BooleanField("在用", default=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name="已合并至",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )
    sort_order = models.PositiveIntegerField("排序", default=100)

    class Meta:
        verbose_name = "部门/单位"
        verbose_name_plural = "部门/单位"
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name

    def canonical(self) -> "Department":
        """Follow merges to the department that now stands for this one."""
        dept, seen = self, set()
        while dept.merged_into_id and dept.pk not in seen:
            seen.add(dept.pk)
            dept = dept.merged_into
        return dept


class DepartmentAlias(models.Model):
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="aliases", verbose_name="部门"
    )
    alias = models.CharField("别名", max_length=64, unique=True)

    class Meta:
        verbose_name = "部门别名"
        verbose_name_plural = "部门别名"

    def __str__(self) -> str:
        return f"{self.alias} → {self.department}"


class MergeSuggestion(models.Model):
    """'Possibly the same as …': raised by an import, decided by an administrator."""

    class Status(models.TextChoices):
        OPEN = "open", "待决定"
        MERGED = "merged", "已合并"
        DISMISSED = "dismissed", "不是同一部门"

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="merge_suggestions", verbose_name="部门"
    )
    candidate = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="+", verbose_name="可能相同的部门"
    )
    reason = models.CharField("依据", max_length=200)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name="决定人",
    )
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)

    class Meta:
        verbose_name = "疑似重复部门"
        verbose_name_plural = "疑似重复部门"
        constraints = [
            models.UniqueConstraint(fields=["department", "candidate"], name="uniq_merge_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.department} 可能与 {self.candidate} 相同"


class Role(models.TextChoices):
    LEADER = "leader", "局领导"
    SUPERVISOR = "supervisor", "督查"
    DEPT_STAFF = "dept_staff", "处室人员"
    DISTRICT_STAFF = "district_staff", "区/街道人员"
    DUTY_OFFICER = "duty_officer", "值班员"
    ADMIN = "admin", "管理员"


class Profile(models.Model):
    """A platform user's place in the bureau: role, department and region scope."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name="账号",
    )
    full_name = models.CharField("姓名", max_length=64, blank=True)
    role = models.CharField("角色", max_length=16, choices=Role.choices, default=Role.DEPT_STAFF)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name="所在部门",
    )
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, verbose_name="负责区划"
    )
    phone = models.CharField("手机", max_length=32, blank=True)

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"

    def __str__(self) -> str:
        return self.full_name or self.user.get_username()

    @property
    def sees_everything(self) -> bool:
        return self.role in {Role.LEADER, Role.SUPERVISOR, Role.ADMIN} or self.user.is_superuser


class AccountSecurity(models.Model):
    """An account's security state (core/accounts.py): when its password was last
    set (for the expiry), whether it must be changed at the next login, and the
    key of its current session (one session per account, where configured)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="security",
        verbose_name="账号",
    )
    password_changed_at = models.DateTimeField("密码设置时间", null=True, blank=True)
    must_change_password = models.BooleanField(
        "下次登录须修改密码", default=False, help_text="管理员设置的初始密码或重置后的密码"
    )
    session_key = models.CharField("当前会话", max_length=40, blank=True)

    class Meta:
        verbose_name = "账号安全状态"
        verbose_name_plural = "账号安全状态"

    def __str__(self) -> str:
        return str(self.user)


class AuditEntry(models.Model):
    """One change to one object (who, when, what, before and after) or one account
    event (a login, a failed login …). Entries are chained by hash, each to the one
    before it (core/auditchain.py): `yingji audit verify` names the first broken link."""

    class Action(models.TextChoices):
        CREATE = "create", "新增"
        UPDATE = "update", "修改"
        DELETE = "delete", "删除"
        LOGIN = "login", "登录"
        LOGOUT = "logout", "退出"
        FAILED = "failed", "登录失败"
        LOCKED = "locked", "账号锁定"
        UNLOCK = "unlock", "解除锁定"
        TIMEOUT = "timeout", "超时退出"
        MFA_ON = "mfa_on", "绑定动态口令"
        MFA_OFF = "mfa_off", "解除动态口令"
        BACKUP = "backup", "备份"
        RESTORE = "restore", "恢复备份"

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_pk = models.CharField(max_length=64)
    object_repr = models.CharField("对象", max_length=200)
    action = models.CharField("操作", max_length=8, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="操作人",
    )
    actor_label = models.CharField("操作人(记录时)", max_length=64)
    at = models.DateTimeField("时间", db_index=True)
    before = models.JSONField("修改前", null=True, blank=True)
    after = models.JSONField("修改后", null=True, blank=True)
    changed_fields = models.JSONField("变更字段", default=list)
    prev_hash = models.CharField("上一条哈希", max_length=64, blank=True, default="")
    hash = models.CharField("哈希", max_length=64, blank=True, default="")

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_pk", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.get_action_display()} {self.object_repr}"


class Notification(models.Model):
    """The one delivery ledger: every message to a person or a department, from any
    module (supervision notices, alarm notices, action cards, warnings to the public,
    reminders, escalations), is one row: its source (the object it is about), its
    recipient, channel, state, attempts and times. `core/outbox.py` queues, claims,
    sends and records; the channels are in `core/channels.py`.

    A row either carries its own text (subject/body, e.g. a supervision notice) or
    leaves it blank for its source's module to render at send time (a warning to a
    million people is one text, not a million copies)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        DELIVERED = "delivered", "已送达"
        FAILED = "failed", "发送失败"
        CANCELLED = "cancelled", "已取消"

    channel = models.CharField("渠道", max_length=16, default="email")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="接收人",
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="接收部门"
    )
    # A recipient that is not a user account (a warning subscriber, …).
    person_type = models.ForeignKey(
        ContentType, null=True, blank=True, related_name="+", on_delete=models.CASCADE
    )
    person_id = models.BigIntegerField(null=True, blank=True)
    person = GenericForeignKey("person_type", "person_id")
    address = models.CharField("地址", max_length=500)
    subject = models.CharField("标题", max_length=200, blank=True)
    body = models.TextField("正文", blank=True)
    dedupe_key = models.CharField("去重键", max_length=200, unique=True, null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", null=True, blank=True)
    last_error = models.CharField("失败原因", max_length=500, blank=True)
    provider_id = models.CharField("服务商消息号", max_length=200, blank=True)
    receipt = models.CharField("回执", max_length=300, blank=True)
    via = models.CharField(
        "实际通道", max_length=16, blank=True, help_text="demo:演示通道记录,未真正发出"
    )
    created_at = models.DateTimeField("排队时间", default=timezone.now)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    source_type = models.ForeignKey(
        ContentType, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    source_id = models.BigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")

    class Meta:
        verbose_name = "投递记录"
        verbose_name_plural = "投递台账"
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id", "person_type", "person_id", "channel"],
                name="core_one_message_per_person_channel",
            )
        ]
        indexes = [
            models.Index(fields=["source_type", "source_id", "channel", "status"]),
            models.Index(fields=["status", "channel"]),
            models.Index(fields=["provider_id"]),
        ]

    def __str__(self) -> str:
        return f"[{self.get_status_display()}] {self.address}: {self.subject}"

    @property
    def demo(self) -> bool:
        return self.via == "demo"

    @property
    def channel_label(self) -> str:
        from yingji.core.channelconfig import LABELS

        label = LABELS.get(self.channel, self.channel)
        return f"{label}(演示通道)" if self.demo else label


class SpecialPeriod(models.Model):
    """Periods the calendar cannot know: 党的二十大, 特别防护期, 重大活动 ..."""

    name = models.CharField("名称", max_length=64)
    start = models.DateField("开始")
    end = models.DateField("结束")
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "特殊时段"
        verbose_name_plural = "特殊时段"
        ordering = ["start"]

    def __str__(self) -> str:
        return f"{self.name}({self.start}~{self.end})"


class ChannelState(models.Model):
    """A delivery channel's health as the senders saw it: last success, last error,
    and the run of failures that puts one item on the duty desk when it is long."""

    name = models.CharField("渠道", max_length=16, primary_key=True)
    last_success_at = models.DateTimeField("最近成功", null=True, blank=True)
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    last_error_at = models.DateTimeField("最近错误时间", null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField("连续失败条数", default=0)
    failing_since = models.DateTimeField("持续失败起始", null=True, blank=True)
    reported = models.BooleanField("已报值班台", default=False)

    class Meta:
        verbose_name = "渠道状态"
        verbose_name_plural = "渠道状态"

    def __str__(self) -> str:
        return self.name
