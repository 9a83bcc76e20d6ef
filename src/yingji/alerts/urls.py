from django.urls import path

from yingji.alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("new/", views.alert_create, name="create"),
    path("<int:pk>/", views.alert_detail, name="detail"),
    path("<int:pk>/progress/", views.alert_progress, name="progress"),
    path("<int:pk>/edit/", views.alert_edit, name="edit"),
    path("<int:pk>/<str:action>/", views.alert_action, name="action"),
    path("subscribers/", views.subscriber_list, name="subscribers"),
    path("incoming/", views.incoming_list, name="incoming"),
    path("incoming/<int:pk>/", views.incoming_detail, name="incoming_detail"),
    # Public, without login: the warning page, CAP XML and the CAP Atom feed.
    path("public/", views.public_list, name="public"),
    path("public/<int:pk>/", views.public_detail, name="public_detail"),
    path("public/<int:pk>/cap.xml", views.cap_xml, name="cap_xml"),
    path("feed.atom", views.atom_feed, name="feed"),
]
