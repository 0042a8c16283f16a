"""The operator page for pattern definitions: the list, and an editor that takes a definition
as YAML (the format of `manage.py patterns import`), validates it inline and saves it against
the version that was opened."""

from typing import Any

import yaml
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from memsite.errors import ApplicationError
from memsite.roles import has_role
from patterns import selectors, services
from patterns.schemas import PatternDefinitionIn

NEW = "new"
TEMPLATE = """id: my-pattern
name: What it says, e.g. whale activity → price up
description: ''
decision_type: SIGNAL_GENERATION
conditions:
  - {path: context.whale_activity, op: eq, value: true}
hit: {outcome: SUCCESS}
half_life_days: 30
min_support: 20
activate_at: 0.6
scope: shared
"""


def definition_list_page(request: HttpRequest) -> HttpResponse:
    context = {"definitions": selectors.definition_list(), "may_edit": has_role(request.user, "operator")}
    return render(request, "patterns/definitions.html", context)


def _as_yaml(definition: Any) -> str:
    fields = set(PatternDefinitionIn.model_fields)
    return yaml.safe_dump(
        definition.model_dump(mode="json", include=fields, exclude_none=True), sort_keys=False, allow_unicode=True
    )


def definition_edit_page(request: HttpRequest, pattern_id: str) -> HttpResponse:
    editor = services.Editor(label=f"user:{request.user.get_username()}", may_edit=has_role(request.user, "operator"))
    current = None if pattern_id == NEW else selectors.definition_get(pattern_id=pattern_id)
    state = {"text": _as_yaml(current) if current else TEMPLATE, "error": None, "fields": {}}
    if request.method == "POST":
        state["text"] = request.POST.get("definition", "")
        saved = _save(request, pattern_id, current, editor, state)
        if saved is not None:
            messages.success(request, f"Saved {saved.id}, version {saved.version}.")
            return redirect("pattern-definition", pattern_id=saved.id)
    context = {"current": current, "state": state, "may_edit": editor.may_edit, "is_new": current is None}
    return render(request, "patterns/definition_edit.html", context)


def _save(request: HttpRequest, pattern_id: str, current: Any, editor: services.Editor, state: dict) -> Any:
    try:
        body = yaml.safe_load(state["text"])
    except yaml.YAMLError as error:
        state["error"] = f"not valid YAML: {error}"
        return None
    try:
        if current is None:
            return services.definition_create(raw=body, editor=editor)
        expected = int(request.POST.get("expected_version") or 0)
        raw = (body if isinstance(body, dict) else {}) | {"expected_version": expected}
        return services.definition_update(pattern_id=pattern_id, raw=raw, editor=editor)
    except (ApplicationError, ValueError) as error:
        state["error"] = getattr(error, "detail", str(error))
        state["fields"] = getattr(error, "fields", {})
        return None
