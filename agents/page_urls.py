from django.urls import path

from agents import views

urlpatterns = [
    path("", views.agent_list_page, name="agent-list"),
    path("<str:agent_id>/", views.agent_detail_page, name="agent-detail"),
    path("<str:agent_id>/config/", views.config_page, name="agent-config"),
]
