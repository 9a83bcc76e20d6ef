from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from yingji.workplan.models import Plan


@login_required
def plan_list(request):
    return render(request, "workplan/plan_list.html", {"plans": Plan.objects.all()})


@login_required
def my_tasks(request):
    return render(request, "workplan/plan_list.html", {"plans": Plan.objects.all()})
