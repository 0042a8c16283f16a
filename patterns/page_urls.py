from django.urls import path

from patterns import views

urlpatterns = [
    path("definitions/", views.definition_list_page, name="pattern-definitions"),
    path("definitions/<str:pattern_id>/", views.definition_edit_page, name="pattern-definition"),
]
