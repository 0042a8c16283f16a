"""Pattern pages: definitions (the list, and an editor that takes a definition as YAML, the
format of `manage.py patterns import`, validates it inline and saves it against the version that
was opened); learned patterns with their confidence, calibration and evolution; strategies; and
the ops page of consolidation runs and their schedule."""

from typing import Any

import yaml
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from agents.selectors import agent_ids_known
from decisions.views import figure_data
from memsite.errors import ApplicationError
from memsite.roles import has_role
from memsite.schedule import schedule_entries
from memsite.status.bill import monthly_bill, stored_bytes_reported
from patterns import charts, memory_selectors, selectors, services, tasks
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


# Learned patterns, strategies and the consolidation runs.

STATUSES = ("candidate", "active", "retired", "pinned", "suspended")


def pattern_list_page(request: HttpRequest) -> HttpResponse:
    params = request.GET.dict()
    state = {"agent": params.get("agent", ""), "status": params.get("status", ""), "scope": params.get("scope", "")}
    query = {"agent": state["agent"], "status": state["status"]}
    # An agent chosen with the default scope shows its patterns and the shared ones.
    query["shared"] = {"shared": "true", "agents": "false"}.get(state["scope"], "true" if state["agent"] else "")
    error, patterns = None, []
    try:
        patterns = memory_selectors.pattern_list(query=memory_selectors.PatternQuery.from_params(query))
    except ApplicationError as problem:
        error = problem.detail
    context = {
        "patterns": patterns,
        "error": error,
        "state": state,
        "statuses": STATUSES,
        "agents_known": agent_ids_known(),
        "confidence": figure_data(charts.confidence_bars(patterns)) if patterns else None,
        "calibration": figure_data(charts.calibration_chart(memory_selectors.calibration(patterns)))
        if any(p.calibration for p in patterns)
        else None,
    }
    return render(request, "patterns/list.html", context)


def pattern_detail_page(request: HttpRequest, pattern_id: str) -> HttpResponse:
    detail = memory_selectors.pattern_detail(pattern_id=pattern_id)
    scopes = [s.agent_id for s in detail.states]
    chosen = request.GET.get("agent") or None
    if chosen not in scopes:
        chosen = scopes[0] if scopes else None
    may_edit = has_role(request.user, "operator")
    if request.method == "POST" and scopes:
        _override(request, pattern_id, chosen)
        query = f"?agent={chosen}" if chosen else ""
        return redirect(reverse("pattern-detail", args=[pattern_id]) + query)
    state = next((s for s in detail.states if s.agent_id == chosen), None)
    versions = memory_selectors.pattern_versions(pattern_id=pattern_id, agent_id=chosen) if state else []
    context = {
        "detail": detail,
        "definition": detail.definition,
        "state": state,
        "chosen": chosen,
        "may_edit": may_edit,
        "evolution": figure_data(charts.evolution_chart(versions, activate_at=detail.definition.activate_at))
        if versions
        else None,
        "support": figure_data(charts.support_chart(versions)) if versions else None,
        "versions": versions[::-1][:20],
    }
    return render(request, "patterns/detail.html", context)


def _override(request: HttpRequest, pattern_id: str, agent_id: str | None) -> None:
    editor = services.Editor(label=f"user:{request.user.get_username()}", may_edit=has_role(request.user, "operator"))
    override = request.POST.get("override") or None
    try:
        services.pattern_override(
            pattern_id=pattern_id,
            agent_id=agent_id,
            override=override,
            reason=request.POST.get("reason", "")[:500],
            editor=editor,
        )
        messages.success(request, f"{pattern_id}: {override or 'back to learned status'}.")
    except ApplicationError as problem:
        messages.error(request, problem.detail)


def strategies_page(request: HttpRequest) -> HttpResponse:
    agent = request.GET.get("agent") or None
    error, strategies = None, []
    try:
        strategies = memory_selectors.strategy_list(agent_id=agent)
    except ApplicationError as problem:
        error = problem.detail
    context = {"strategies": strategies, "error": error, "agent": agent or "", "agents_known": agent_ids_known()}
    return render(request, "patterns/strategies.html", context)


def ops_page(request: HttpRequest) -> HttpResponse:
    may_run = has_role(request.user, "operator")
    if request.method == "POST" and may_run:
        try:
            tasks.consolidate_all.delay()
            messages.success(request, "Consolidation queued: one task per agent. Runs appear below as they finish.")
        except Exception as problem:
            messages.error(
                request,
                f"Could not reach the task queue ({type(problem).__name__}). "
                "Run it in a shell: .venv/bin/python manage.py consolidate",
            )
        return redirect("ops")
    context = {
        "runs": memory_selectors.run_list(limit=100),
        "schedule": schedule_entries(),
        "may_run": may_run,
        "bill": monthly_bill(agents=len(agent_ids_known()), stored_bytes=stored_bytes_reported()),
    }
    return render(request, "patterns/ops.html", context)
