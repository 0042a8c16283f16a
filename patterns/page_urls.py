from django.urls import path

from patterns import archetype_views, views

urlpatterns = [
    path("", views.pattern_list_page, name="pattern-list"),
    path("definitions/", views.definition_list_page, name="pattern-definitions"),
    path("definitions/<str:pattern_id>/", views.definition_edit_page, name="pattern-definition"),
    path("strategies/", views.strategies_page, name="pattern-strategies"),
    path("archetypes/", archetype_views.archetypes_page, name="pattern-archetypes"),
    path("<str:pattern_id>/", views.pattern_detail_page, name="pattern-detail"),
]
