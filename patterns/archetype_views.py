"""The archetypes page: what market situations the agents keep meeting and how each turned out.
Thin: the data from archetype_selectors, the figure from archetype_charts."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from decisions.views import figure_data
from patterns import archetype_charts, archetype_selectors


def archetypes_page(request: HttpRequest) -> HttpResponse:
    current = archetype_selectors.archetypes_current()
    context = {
        "model": current.model if current else None,
        "archetypes": current.archetypes if current else [],
        "examples": archetype_selectors.EXAMPLES,
        "figure": figure_data(archetype_charts.success_by_archetype(current.archetypes)) if current else None,
        "why_no_model": archetype_selectors.WHY_NO_MODEL,
    }
    return render(request, "patterns/archetypes.html", context)
