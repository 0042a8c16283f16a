from django.urls import path

from signals import views

urlpatterns = [
    path("", views.signal_flow_page, name="signal-flow"),
    path("feed/", views.signal_feed_partial, name="signal-feed"),
    path("<str:signal_id>/", views.signal_detail_page, name="signal-detail"),
]
