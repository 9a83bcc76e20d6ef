from django.urls import path

from yingji.workplan import views

app_name = "workplan"
urlpatterns = [
    path("", views.plan_list, name="plans"),
    path("mine/", views.my_tasks, name="my_tasks"),
]
