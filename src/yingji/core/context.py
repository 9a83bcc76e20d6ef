from django.conf import settings

from yingji.core import nav


def platform(request):
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    return {
        "bureau_name": settings.YINGJI_BUREAU_NAME,
        "map_center": ",".join(str(x) for x in settings.YINGJI_MAP_CENTER),
        "profile": getattr(user, "profile", None) if signed_in else None,
        "nav_groups": nav.groups_for(user, request.path) if signed_in else [],
    }
