from django.urls import include, path

from yingji.workplan import views

app_name = "workplan"
urlpatterns = [
    path("", views.plan_list, name="plans"),
    path("mine/", views.my_tasks, name="my_tasks"),
    path("<int:plan_id>/", views.board, name="board"),
    path("<int:plan_id>/tasks/", views.task_list, name="tasks"),
    path("tasks/<int:task_id>/", views.task_detail, name="task"),
    path("tasks/<int:task_id>/report/", views.report_create, name="report"),
    path("tasks/<int:task_id>/owners/", views.assign_owners, name="assign_owners"),
    path("tasks/<int:task_id>/milestones/", views.milestone_create, name="milestone_create"),
    path("tasks/<int:task_id>/pause/", views.pause_request, name="pause_request"),
    path("pauses/<int:pause_id>/<str:decision>/", views.pause_decide, name="pause_decide"),
    path("notices/<int:notice_id>/respond/", views.notice_respond, name="notice_respond"),
    path("", include("yingji.workplan.urls_reports")),
]
