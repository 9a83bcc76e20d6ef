"""预警信息发布 (alerts): persistence only.

An Alert is one CAP message the bureau releases (an Alert, or an Update/Cancel of
an earlier one), moving through the workflow in `workflow.py`. Its areas are
AlertArea rows (a region by code, or a drawn/uploaded polygon or circle kept
exactly); its population groups are SubscriberGroups. Per-recipient delivery is a
row of the one delivery ledger (core.Notification) per (alert, subscriber,
channel): unique, so queueing twice queues once, and the rows' states are what the
progress view shows. Incoming CAP from
other agencies is an IncomingCap row; re-releasing it creates a local Alert.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models

from yingji.core.models import Region

# CAP 1.2 §3.2.1 msgType and status with their Chinese names: the bureau releases
# the first three of each; an incoming message may carry any of them.
MSG_TYPES = [
    ("Alert", "预警"),
    ("Update", "更新"),
    ("Cancel", "解除"),
    ("Ack", "确认"),
    ("Error", "错误更正"),
]
CAP_STATUSES = [
    ("Actual", "正式"),
    ("Exercise", "演练"),
    ("Test", "测试"),
    ("System", "系统消息"),
    ("Draft", "草稿"),
]


class SubscriberGroup(models.Model):
    """A population group (人群): schools, hospitals, 三防责任人, the public …"""

    key = models.SlugField("标识", max_length=40, unique=True)
    name = models.CharField("名称", max_length=64)
    sort_order = models.PositiveIntegerField("排序", default=100)

    class Meta:
        verbose_name = "人群分组"
        verbose_name_plural = "人群分组"
        ordering = ["sort_order", "key"]

    def __str__(self) -> str:
        return self.name


class Subscriber(models.Model):
    """A person or organisation that receives alerts."""

    external_id = models.CharField(
        "外部编号", max_length=64, unique=True, help_text="导入时据此更新,重复导入不产生重复订阅人"
    )
    name = models.CharField("姓名/单位", max_length=100)
    phone = models.CharField("手机", max_length=32, blank=True)
    email = models.EmailField("邮箱", blank=True)
    webhook_url = models.URLField("群机器人 Webhook", max_length=500, blank=True)
    language = models.CharField(
        "语言", max_length=8, default="zh-CN", choices=[("zh-CN", "中文"), ("en-US", "英文")]
    )
    channels = models.JSONField(
        "接收渠道",
        default=list,
        help_text="短信、邮件、群机器人中的若干项;为空表示所有有地址的渠道",
    )
    home_region = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="常住区划",
    )
    last_lon = models.FloatField("最近位置经度(WGS-84)", null=True, blank=True)
    last_lat = models.FloatField("最近位置纬度(WGS-84)", null=True, blank=True)
    located_at = models.DateTimeField("位置时间", null=True, blank=True)
    # The region the last location lies in (street code, else district), written with
    # the location (subscribers.locate_subscribers / the pre_save hook) so that building
    # the targeting index needs no point lookup. NULL: not computed yet; "": in no region.
    located_region = models.CharField(
        "最近位置所在区划", max_length=12, null=True, blank=True, editable=False
    )
    groups = models.ManyToManyField(
        SubscriberGroup, blank=True, related_name="subscribers", verbose_name="人群分组"
    )
    opted_out = models.BooleanField("已退订", default=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_index=True)

    class Meta:
        verbose_name = "订阅人"
        verbose_name_plural = "订阅人"
        ordering = ["external_id"]

    def __str__(self) -> str:
        return f"{self.name}({self.external_id})"


class Alert(models.Model):
    """One CAP message released by the bureau, and its place in the workflow."""

    class State(models.TextChoices):
        DRAFT = "draft", "草稿"
        REVIEW = "review", "待审核"
        APPROVED = "approved", "已批准"
        PUBLISHED = "published", "已发布"
        UPDATED = "updated", "已更新"
        CANCELLED = "cancelled", "已解除"
        EXPIRED = "expired", "已过期"
        WITHDRAWN = "withdrawn", "已撤回"

    class Origin(models.TextChoices):
        LOCAL = "local", "本地编制"
        MONITORING = "monitoring", "监测预警自动起草"
        INCOMING = "incoming", "外部预警转发"

    identifier = models.CharField("标识符", max_length=120, unique=True)
    sender = models.CharField("发送者", max_length=120)
    msg_type = models.CharField(
        "消息类型",
        max_length=8,
        default="Alert",
        choices=MSG_TYPES[:3],
    )
    cap_status = models.CharField(
        "CAP 状态", max_length=10, default="Actual", choices=CAP_STATUSES[:3]
    )
    state = models.CharField(
        "流程状态", max_length=10, choices=State.choices, default=State.DRAFT, db_index=True
    )
    origin = models.CharField("来源", max_length=12, choices=Origin.choices, default=Origin.LOCAL)
    references = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="successors",
        verbose_name="引用(被更新/解除的预警)",
    )
    incoming = models.ForeignKey(
        "IncomingCap",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="releases",
        verbose_name="转发自",
    )

    hazard = models.CharField("预警类型", max_length=32)
    colour = models.CharField(
        "预警级别(颜色)",
        max_length=8,
        blank=True,
        choices=[
            ("white", "白色"),
            ("blue", "蓝色(四级)"),
            ("yellow", "黄色(三级)"),
            ("orange", "橙色(二级)"),
            ("red", "红色(一级)"),
        ],
    )
    category = models.CharField("CAP 类别", max_length=10, default="Met")
    event = models.CharField("事件", max_length=64)
    urgency = models.CharField("紧迫程度", max_length=10, default="Expected")
    severity = models.CharField("严重程度", max_length=10, default="Unknown")
    certainty = models.CharField("确定程度", max_length=10, default="Likely")
    response_type = models.CharField("建议行动", max_length=10, blank=True)
    headline = models.CharField("标题", max_length=200)
    description = models.TextField("内容")
    instruction = models.TextField("防御指引", blank=True)
    headline_en = models.CharField("英文标题", max_length=200, blank=True)
    description_en = models.TextField("英文内容", blank=True)
    instruction_en = models.TextField("英文防御指引", blank=True)
    effective = models.DateTimeField("生效时间", null=True, blank=True)
    expires = models.DateTimeField("失效时间", null=True, blank=True)
    groups = models.ManyToManyField(
        SubscriberGroup,
        blank=True,
        related_name="alerts",
        verbose_name="区域内目标人群",
        help_text="为空表示区域内所有人",
    )
    groups_anywhere = models.ManyToManyField(
        SubscriberGroup,
        blank=True,
        related_name="alerts_anywhere",
        verbose_name="不限区域另行通知的人群",
        help_text="如全市三防责任人、值班员",
    )
    channels = models.JSONField("发布渠道", default=list)
    # The alert's messages in the one delivery ledger (core.Notification, source = alert).
    deliveries = GenericRelation(
        "core.Notification",
        content_type_field="source_type",
        object_id_field="source_id",
        related_query_name="alert",
    )
    population_estimate = models.PositiveIntegerField("预计覆盖人数", null=True, blank=True)
    # False while a large release's recipients after the first chunk are still being
    # queued by the background job (services.queue_remaining); the sweep finishes it.
    recipients_queued = models.BooleanField("收件人已全部排队", default=True)

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="起草人",
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="审批人",
    )
    review_note = models.CharField("审核意见", max_length=500, blank=True)
    # The monitoring event (monitoring.Event id) this message was drafted from: one
    # open draft per event, and a published one is updated, never doubled.
    monitoring_event = models.PositiveBigIntegerField(
        "监测事件", null=True, blank=True, db_index=True
    )
    # For the reviewers only: never in the CAP message, the public page, SMS or the feed.
    internal_note = models.TextField("内部备注", blank=True)
    # Everyone who created, edited or submitted this message (user ids): none of them
    # may approve it (four eyes).
    hands = models.JSONField("经手人", default=list, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    approved_at = models.DateTimeField("批准时间", null=True, blank=True)
    sent = models.DateTimeField("发布时间", null=True, blank=True)
    cap_xml = models.TextField("CAP XML", blank=True, help_text="发布时生成,此后不变")

    class Meta:
        verbose_name = "预警"
        verbose_name_plural = "预警"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.headline


class AlertArea(models.Model):
    """One target area of an alert: a region by code, or an exact polygon/circle."""

    class Kind(models.TextChoices):
        REGION = "region", "行政区划"
        POLYGON = "polygon", "多边形"
        CIRCLE = "circle", "圆形"

    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, related_name="areas", verbose_name="预警"
    )
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    description = models.CharField("区域描述", max_length=200)
    region = models.ForeignKey(
        Region,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="区划",
    )
    geometry = models.JSONField("几何(GeoJSON, WGS-84,原样保存)", null=True, blank=True)
    radius_km = models.FloatField("半径(千米)", null=True, blank=True)

    class Meta:
        verbose_name = "预警区域"
        verbose_name_plural = "预警区域"

    def __str__(self) -> str:
        return self.description


class IncomingFeed(models.Model):
    """An external CAP source (e.g. the meteorological bureau): polled or pushing."""

    name = models.CharField("名称", max_length=100)
    url = models.URLField("地址(轮询)", max_length=500, blank=True)
    token = models.CharField(
        "推送口令",
        max_length=64,
        unique=True,
        help_text="推送接口 /api/v1/alerts/incoming/{口令} 使用",
    )
    active = models.BooleanField("启用", default=True)
    last_polled_at = models.DateTimeField("最近轮询", null=True, blank=True)
    last_error = models.CharField("最近错误", max_length=500, blank=True)

    class Meta:
        verbose_name = "外部预警源"
        verbose_name_plural = "外部预警源"

    def __str__(self) -> str:
        return self.name


class IncomingCap(models.Model):
    """One CAP message received from another agency, as received."""

    feed = models.ForeignKey(
        IncomingFeed,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        verbose_name="来源",
    )
    identifier = models.CharField("标识符", max_length=200)
    sender = models.CharField("发送者", max_length=200)
    sent = models.CharField("发送时间(CAP)", max_length=32)
    # As received: CAP's every value has its label; anything else shows as it came.
    msg_type = models.CharField("消息类型", max_length=8, choices=MSG_TYPES)
    cap_status = models.CharField("CAP 状态", max_length=10, choices=CAP_STATUSES)
    headline = models.CharField("标题", max_length=300, blank=True)
    event = models.CharField("事件", max_length=100, blank=True)
    severity = models.CharField("严重程度", max_length=10, blank=True)
    xml = models.TextField("原文")
    problems = models.JSONField("校验问题", default=list)
    received_at = models.DateTimeField("接收时间", auto_now_add=True)

    class Meta:
        verbose_name = "外部预警"
        verbose_name_plural = "外部预警"
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["sender", "identifier"], name="alerts_incoming_once")
        ]

    def __str__(self) -> str:
        return self.headline or self.identifier
