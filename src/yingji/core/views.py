from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from yingji.core import audit


@login_required
def home(request):
    return render(request, "core/home.html")


@login_required
def map_page(request):
    return render(request, "core/map.html")


@login_required
def object_history(request, app_label: str, model: str, pk: str):
    try:
        model_cls = apps.get_model(app_label, model)
    except LookupError as exc:
        raise Http404 from exc
    obj = model_cls._default_manager.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return render(request, "core/history.html", {"object": obj, "entries": audit.history(obj)})
