from django.conf import settings


def platform(request):
    profile = getattr(getattr(request, "user", None), "profile", None) if getattr(
        request, "user", None) and request.user.is_authenticated else None
    return {
        "bureau_name": settings.YINGJI_BUREAU_NAME,
        "profile": profile,
    }
