"""Alert pages: the list, drafting, the alert page (review, approve, update,
extend, cancel, live delivery progress), subscribers and their import, incoming
CAP and its re-release; and, without login, the public warning page, the CAP
XML of released alerts and the CAP Atom feed."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.http import require_POST

from yingji.alerts import conventions, incoming, services, subscribers
from yingji.alerts import workflow as wf
from yingji.alerts.models import Alert, IncomingCap, Subscriber, SubscriberGroup
from yingji.core import channelconfig, inputlimits, pagecache
from yingji.core.models import AuditEntry, Region
from yingji.core.templatetags.yingji_labels import person_name
from yingji.core.viewhelpers import error_text


def _form_context() -> dict:
    return {
        "signal_types": conventions.SIGNAL_TYPES.values(),
        "other_hazards": conventions.OTHER_HAZARDS,
        "colours": [(c, conventions.COLOUR_NAMES[c]) for c in conventions.COLOUR_ORDER],
        "regions": Region.objects.filter(level__in=["city", "district", "street"])
        .order_by("code")
        .only("code", "name", "level"),
        "groups": SubscriberGroup.objects.all(),
        "channel_labels": channelconfig.LABELS,
        "cap_statuses": Alert._meta.get_field("cap_status").choices,
    }


def _uploaded_polygons(upload) -> list[services.AreaSpec]:
    """Areas from an uploaded GeoJSON file: every Polygon/MultiPolygon in a
    FeatureCollection, Feature or bare geometry, one area each. The areas end up
    in the CAP message, so the file may be as large as a CAP document
    (YINGJI_CAP_MAX_BYTES), checked before it is read."""
    if too_large := inputlimits.upload_too_large(upload, "YINGJI_CAP_MAX_BYTES"):
        raise ValidationError({"areas": [too_large]})
    try:
        data = json.loads(upload.read().decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValidationError({"areas": [f"{upload.name}:不是 UTF-8 编码的 GeoJSON"]}) from None
    if not isinstance(data, dict):
        raise ValidationError({"areas": [f"{upload.name}:不是 GeoJSON 对象"]})
    features = data.get("features") if data.get("type") == "FeatureCollection" else [data]
    specs = []
    for n, feature in enumerate(features if isinstance(features, list) else [], 1):
        if not isinstance(feature, dict):
            continue
        geometry = feature.get("geometry") if feature.get("type") == "Feature" else feature
        if not isinstance(geometry, dict) or geometry.get("type") not in (
            "Polygon",
            "MultiPolygon",
        ):
            continue
        props = feature.get("properties")
        name = (props.get("name") if isinstance(props, dict) else None) or f"{upload.name} 区域{n}"
        specs.append(services.AreaSpec(polygon=geometry, description=str(name)[:200]))
    if not specs:
        raise ValidationError({"areas": [f"{upload.name}:文件中没有多边形"]})
    return specs


def spec_from_post(post, *, hazard: str | None = None, files=None) -> services.DraftSpec:
    """A DraftSpec from the drafting form (also used by re-release)."""
    areas = [services.AreaSpec(region_code=c) for c in post.getlist("regions") if c]
    if files is not None and files.get("polygon_file"):
        areas += _uploaded_polygons(files["polygon_file"])
    if post.get("polygon", "").strip():
        try:
            geometry = json.loads(post["polygon"])
        except ValueError:
            raise ValidationError({"areas": ["多边形须为 GeoJSON"]}) from None
        if geometry.get("type") == "Feature":
            geometry = geometry.get("geometry")
        areas.append(
            services.AreaSpec(
                polygon=geometry,
                crs=post.get("crs") or "wgs84",
                description=post.get("polygon_desc", ""),
            )
        )
    if post.get("circle_lat") and post.get("circle_radius"):
        try:
            circle = (
                float(post["circle_lat"]),
                float(post["circle_lon"]),
                float(post["circle_radius"]),
            )
        except (KeyError, ValueError):
            raise ValidationError({"areas": ["圆形区域须填写数值"]}) from None
        areas.append(services.AreaSpec(circle=circle))
    expires = None
    if post.get("expires_hours"):
        expires = timezone.now() + dt.timedelta(hours=float(post["expires_hours"]))
    return services.DraftSpec(
        hazard=hazard or post.get("hazard", ""),
        colour=post.get("colour", ""),
        description=post.get("description", "").strip(),
        instruction=post.get("instruction", "").strip(),
        headline=post.get("headline", "").strip(),
        areas=areas,
        groups=post.getlist("groups"),
        groups_anywhere=post.getlist("groups_anywhere"),
        channels=post.getlist("channels"),
        cap_status=post.get("cap_status") or "Actual",
        headline_en=post.get("headline_en", "").strip(),
        description_en=post.get("description_en", "").strip(),
        expires=expires,
    )


@login_required
@pagecache.per_user("alerts")
def alert_list(request):
    state = request.GET.get("state") or ""
    # The drafter's name comes from the profile: two rows joined, not 2 queries a row.
    alerts = Alert.objects.select_related("author__profile").defer("cap_xml")
    if state:
        alerts = alerts.filter(state=state)
    return render(
        request,
        "alerts/alert_list.html",
        {
            "alerts": alerts[:200],
            "state": state,
            "states": Alert.State.choices,
            "can_draft": services.can_draft(request.user),
        },
    )


@login_required
def alert_create(request):
    if not services.can_draft(request.user):
        raise PermissionDenied("没有起草预警的权限")
    context = _form_context()
    if request.method == "POST":
        try:
            alert = services.create_draft(
                request.user, spec_from_post(request.POST, files=request.FILES)
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
            context["post"] = request.POST
            return render(request, "alerts/alert_form.html", context, status=422)
        if request.POST.get("submit_now"):
            services.submit(alert, request.user)
        messages.success(request, "预警已保存")
        return redirect("alerts:detail", alert.pk)
    return render(request, "alerts/alert_form.html", context)


def _labels(alert: Alert) -> dict:
    return {
        "severity": conventions.SEVERITY_LABELS.get(alert.severity, alert.severity),
        "urgency": conventions.URGENCY_LABELS.get(alert.urgency, alert.urgency),
        "certainty": conventions.CERTAINTY_LABELS.get(alert.certainty, alert.certainty),
        "channels": [channelconfig.LABELS.get(c, c) for c in alert.channels],
        "author": person_name(alert.author) if alert.author_id else "系统(监测预警)",
        "approver": person_name(alert.approver),
    }


@login_required
def alert_edit(request, pk: int):
    """Edit a draft, a person's or the system's (monitoring, re-release): the editor
    joins the message's hands and can no longer approve it (four eyes)."""
    alert = get_object_or_404(Alert, pk=pk)
    if not services.can_draft(request.user):
        raise PermissionDenied("没有修改预警的权限")
    context = {
        **_form_context(),
        "alert": alert,
        "selected_regions": set(
            alert.areas.exclude(region=None).values_list("region_id", flat=True)
        ),
        "selected_groups": set(alert.groups.values_list("key", flat=True)),
        "selected_anywhere": set(alert.groups_anywhere.values_list("key", flat=True)),
    }
    if request.method == "POST":
        post = request.POST
        try:
            expires = None
            if post.get("expires"):
                expires = timezone.make_aware(dt.datetime.fromisoformat(post["expires"]))
            spec = services.DraftSpec(
                hazard=post.get("hazard", alert.hazard),
                colour=post.get("colour", ""),
                description=post.get("description", "").strip(),
                instruction=post.get("instruction", "").strip(),
                internal_note=post.get("internal_note", "").strip(),
                headline=post.get("headline", "").strip(),
                areas=[services.AreaSpec(region_code=c) for c in post.getlist("regions") if c],
                groups=post.getlist("groups"),
                groups_anywhere=post.getlist("groups_anywhere"),
                channels=post.getlist("channels"),
                cap_status=post.get("cap_status") or "Actual",
                urgency=alert.urgency,
                certainty=alert.certainty,
                response_type=alert.response_type,
                expires=expires,
                headline_en=alert.headline_en,
                description_en=alert.description_en,
                instruction_en=alert.instruction_en,
            )
            alert = services.edit_draft(alert, request.user, spec)
        except ValueError:
            messages.error(request, "失效时间格式不正确")
            return render(request, "alerts/alert_edit.html", context, status=422)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
            return render(request, "alerts/alert_edit.html", context, status=422)
        messages.success(request, "草稿已修改")
        return redirect("alerts:detail", alert.pk)
    return render(request, "alerts/alert_edit.html", context)


@login_required
def alert_detail(request, pk: int):
    alert = get_object_or_404(
        Alert.objects.select_related("author", "approver", "references"), pk=pk
    )
    history = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Alert), object_pk=str(alert.pk)
    )
    return render(
        request,
        "alerts/alert_detail.html",
        {
            "alert": alert,
            "areas": alert.areas.select_related("region"),
            "chain": services.chain(alert),
            "history": history[:50],
            "progress": services.progress(alert),
            "can_retry": services.can_approve(request.user),
            "labels": _labels(alert),
            "colour_choices": [(c, conventions.COLOUR_NAMES[c]) for c in conventions.COLOUR_ORDER],
            "failed": alert.deliveries.filter(status="failed").order_by("-id")[:50],
            # The approve button only for whoever the approval will accept (four eyes,
            # a leader for red and orange); returning it for changes for any approver
            # who has not had a hand in it.
            "can_approve": services.may_approve(alert, request.user),
            "can_reject": services.can_approve(request.user)
            and request.user.pk != alert.author_id
            and request.user.pk not in (alert.hands or []),
            "approve_refusal": services.approval_refusal(alert, request.user),
            "is_hand": request.user.pk == alert.author_id or request.user.pk in (alert.hands or []),
            "is_author": request.user.pk == alert.author_id,
            "can_draft": services.can_draft(request.user),
            "live": alert.state == wf.PUBLISHED,
            "colours": conventions.COLOUR_ORDER,
        },
    )


@login_required
def alert_progress(request, pk: int):
    """The live progress fragment (htmx polls it while deliveries are pending)."""
    alert = get_object_or_404(Alert, pk=pk)
    return render(
        request,
        "alerts/_progress.html",
        {
            "alert": alert,
            "progress": services.progress(alert),
            "can_retry": services.can_approve(request.user),
        },
    )


@login_required
@require_POST
def alert_action(request, pk: int, action: str):
    alert = get_object_or_404(Alert, pk=pk)
    post = request.POST
    try:
        if action == "submit":
            alert = services.submit(alert, request.user)
        elif action == "approve":
            alert = services.approve(alert, request.user)
        elif action == "reject":
            alert = services.reject(alert, request.user, post.get("note", ""))
        elif action == "withdraw":
            alert = services.withdraw(alert, request.user)
        elif action == "update":
            alert = services.update(
                alert,
                request.user,
                colour=post.get("colour") or None,
                description=post.get("description") or None,
                instruction=post.get("instruction") or None,
            )
        elif action == "extend":
            hours = float(post.get("hours") or 0)
            base = alert.expires or timezone.now()
            alert = services.extend(alert, request.user, base + dt.timedelta(hours=hours))
        elif action == "cancel":
            alert = services.cancel(alert, request.user, post.get("note", ""))
        elif action == "retry":
            n = services.retry_deliveries(alert, request.user)
            messages.success(request, f"已重新排队 {n} 条消息")
            return redirect("alerts:detail", alert.pk)
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except ValueError:
        messages.error(request, "请填写有效的数值")
    else:
        messages.success(request, f"已{wf.ACTION_LABELS.get(action, action)}")
    return redirect("alerts:detail", alert.pk)


@login_required
def subscriber_list(request):
    if request.method == "POST":
        if not services.can_draft(request.user):
            raise PermissionDenied("没有导入订阅人的权限")
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择 CSV 或 Excel 文件")
        elif too_large := inputlimits.upload_too_large(upload):
            messages.error(request, too_large)  # from its size, before it is read
        else:
            try:
                report = subscribers.import_subscribers(upload.name, upload.read())
            except ValidationError as exc:  # the file as a whole (encoding, limits)
                messages.error(request, error_text(exc))
                return redirect("alerts:subscribers")
            if report.errors:
                for error in report.errors[:50]:
                    messages.error(request, error)
                messages.error(request, f"文件有 {len(report.errors)} 处问题,未导入任何订阅人")
            else:
                messages.success(request, f"新增 {report.created} 人,更新 {report.updated} 人")
        return redirect("alerts:subscribers")
    qs = Subscriber.objects.select_related("home_region").prefetch_related("groups")
    group = request.GET.get("group")
    if group:
        qs = qs.filter(groups__key=group)
    return render(
        request,
        "alerts/subscriber_list.html",
        {
            "subscribers": qs[:300],
            "count": qs.count(),
            "groups": SubscriberGroup.objects.all(),
            "group": group,
            "columns": list(subscribers.IMPORT_HEADERS.values()),
        },
    )


@login_required
def incoming_list(request):
    return render(
        request,
        "alerts/incoming_list.html",
        {"items": IncomingCap.objects.select_related("feed")[:200]},
    )


@login_required
def incoming_detail(request, pk: int):
    item = get_object_or_404(IncomingCap, pk=pk)
    context = {"item": item, **_form_context()}
    if request.method == "POST":
        try:
            spec = spec_from_post(request.POST, hazard="other")
            alert = incoming.rerelease(
                item,
                request.user,
                areas=spec.areas,
                groups=spec.groups,
                groups_anywhere=spec.groups_anywhere,
                channels=spec.channels,
                hazard=request.POST.get("hazard") or None,
                colour=request.POST.get("colour") or None,
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, error_text(exc))
            return render(request, "alerts/incoming_detail.html", context, status=422)
        messages.success(request, "已生成本地转发预警并提交审核")
        return redirect("alerts:detail", alert.pk)
    from yingji.alerts import cap

    try:
        context["message"] = cap.parse_one(item.xml)
    except cap.CapError:
        context["message"] = None
    return render(request, "alerts/incoming_detail.html", context)


# ------------------------------------------------------------- public (no login)


def _released():
    return Alert.objects.filter(state__in=wf.RELEASED).exclude(sent=None)


@pagecache.per_user("alerts")  # a logged-in user's; visitors' in core/publiccache.py
def public_list(request):
    """The public warning page: alerts in force, and the latest ended ones."""
    live = _released().filter(state=wf.PUBLISHED).order_by("-sent")
    ended = _released().exclude(state=wf.PUBLISHED).order_by("-sent")[:20]
    # shared_page: the same bytes for every logged-out visitor (core/publiccache.py),
    # so no CSRF token of one visitor's in it.
    context = {"live": live, "ended": ended, "shared_page": not request.user.is_authenticated}
    return render(request, "alerts/public_list.html", context)


def public_detail(request, pk: int):
    alert = get_object_or_404(_released(), pk=pk)
    from yingji.alerts.mapdata import alert_features

    return render(
        request,
        "alerts/public_detail.html",
        {
            "alert": alert,
            "areas": alert.areas.select_related("region"),
            "features": alert_features(alert.pk),
            "level_name": conventions.COLOUR_NAMES.get(alert.colour, ""),
            "chain": [a for a in services.chain(alert) if a.state in wf.RELEASED],
        },
    )


def cap_xml(request, pk: int):
    alert = get_object_or_404(_released(), pk=pk)
    return HttpResponse(alert.cap_xml, content_type="application/cap+xml; charset=utf-8")


class _CapFeed(Atom1Feed):
    """Atom whose entries carry the CAP identifier and link the CAP XML."""

    def root_attributes(self):
        attrs = super().root_attributes()
        attrs["xmlns:cap"] = "urn:oasis:names:tc:emergency:cap:1.2"
        return attrs

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("cap:identifier", item["cap_identifier"])


def atom_feed(request):
    """CAP Atom feed of released alerts (in force first), each linking its CAP XML."""
    feed = _CapFeed(
        title=f"{_bureau()}预警信息",
        link=request.build_absolute_uri(reverse("alerts:public")),
        description="CAP 1.2 预警信息",
        language="zh-cn",
        feed_url=request.build_absolute_uri(),
    )
    feed.namespaces = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
    for alert in _released().order_by("-sent")[:100]:
        feed.add_item(
            title=alert.headline,
            link=request.build_absolute_uri(reverse("alerts:cap_xml", args=[alert.pk])),
            description=alert.description,
            unique_id=f"urn:oid:{alert.identifier}",
            pubdate=alert.sent,
            updateddate=alert.sent,
            categories=[alert.event],
            cap_identifier=alert.identifier,
        )
    return HttpResponse(
        feed.writeString("utf-8"), content_type="application/atom+xml; charset=utf-8"
    )


def _bureau() -> str:
    from django.conf import settings

    return settings.YINGJI_BUREAU_NAME
