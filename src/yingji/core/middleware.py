from yingji.core.audit import _actor


class AuditActorMiddleware:
    """Attribute every change made while serving a request to its user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            token = _actor.set((user, user.get_username()))
            try:
                return self.get_response(request)
            finally:
                _actor.reset(token)
        return self.get_response(request)
