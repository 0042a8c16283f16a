"""Pages of the agents: the registry, one agent's working state, and its configuration editor."""

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from agents import config, selectors
from agents.models import ConfigChange
from memsite.errors import AlreadyExists, ApplicationError, PayloadTooLarge, ValidationFailed
from memsite.roles import has_role


def agent_list_page(request: HttpRequest) -> HttpResponse:
    return render(request, "agents/list.html", {"agents": selectors.agent_list()})


def agent_detail_page(request: HttpRequest, agent_id: str) -> HttpResponse:
    agent = selectors.agent_get(agent_id=agent_id)
    context = {
        "agent": agent,
        "current": _find(selectors.state_get, agent_id=agent_id, slot="CURRENT"),
        "backup": _find(selectors.state_get, agent_id=agent_id, slot="BACKUP"),
        "checkpoints": selectors.checkpoint_list(agent_id=agent_id),
        "memory": selectors.memory_list(agent_id=agent_id),
        "windows": selectors.ratelimit_windows(agent_id=agent_id),
        "queries": selectors.recent_queries(agent_id=agent_id),
        "config": config.config_current(agent_id=agent_id),
        "audit": ConfigChange.objects.filter(agent_id=agent_id)[:10],
    }
    return render(request, "agents/detail.html", context)


def _find(selector, **kwargs) -> Any:
    try:
        return selector(**kwargs)
    except ApplicationError:
        return None


def config_page(request: HttpRequest, agent_id: str) -> HttpResponse:
    """GET shows the editor; POST previews a diff, saves, or rolls back. On any error the page
    comes back with the person's text as they typed it."""
    agent = selectors.agent_get(agent_id=agent_id)
    current = config.config_current(agent_id=agent_id)
    editor = config.Editor(label=f"user:{request.user.get_username()}", may_edit=has_role(request.user, "operator"))
    state = {
        "text": json.dumps(current.document, indent=2, sort_keys=True),
        "note": "",
        "expected_version": current.version,
        "errors": {},
        "error": None,
        "preview": None,
        "rebased_over": None,
    }
    if request.method == "POST":
        outcome = _handle_post(request, agent_id, current, editor, state)
        if outcome is not None:
            return outcome
    return render(request, "agents/config.html", _config_context(request, agent, current, editor, state))


def _handle_post(request, agent_id, current, editor, state) -> HttpResponse | None:
    action = request.POST.get("action", "preview")
    if action == "rollback":
        return _rollback(request, agent_id, current, editor, state)
    state |= {"text": request.POST.get("document", ""), "note": request.POST.get("note", "")}
    # Never guess the version a person edited: a wrong guess could overwrite someone's save.
    state["expected_version"] = _posted_int(request, "expected_version", -1)
    try:
        document = json.loads(state["text"])
    except json.JSONDecodeError as error:
        state["errors"] = {"document": f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"}
        return None
    except RecursionError:
        state["errors"] = {"document": "not valid JSON: nested too deeply"}
        return None
    try:
        checked = config.config_validate(agent_id=agent_id, document=document)
        base = config.config_version(agent_id=agent_id, version=state["expected_version"])
        state["preview"] = config.config_diff(
            base.document, checked, before_label=f"version {base.version}", after_label="your edit"
        )
        if action == "preview" and current.version > base.version:
            # Say so now, not only when the save is refused.
            state["error"] = (
                f"Version {current.version} was saved by {current.author} at "
                f"{current.created_at:%Y-%m-%d %H:%M:%S} UTC "
                f"since you started from version {base.version}: this preview is against version {base.version}, "
                "and saving will show you the difference with the newer one first."
            )
        if action == "save":
            raw = {"document": document, "note": state["note"], "expected_version": state["expected_version"]}
            saved = config.config_save(agent_id=agent_id, raw=raw, editor=editor)
            messages.success(request, f"Saved version {saved.version}.")
            return redirect("agent-config", agent_id=agent_id)
    except AlreadyExists as conflict:
        # Keep their text; offer to save over the version that won, once they have seen the difference.
        winner = config.config_current(agent_id=agent_id)
        state["error"] = conflict.detail
        state["expected_version"] = winner.version
        state["rebased_over"] = winner
        state["preview"] = config.config_diff(
            winner.document,
            document if isinstance(document, dict) else {},
            before_label=f"version {winner.version} (saved meanwhile)",
            after_label="your edit",
        )
    except (ValidationFailed, PayloadTooLarge) as error:
        state["errors"] = error.fields or {"document": error.detail}
        state["error"] = error.detail
    except ApplicationError as error:
        state["error"] = error.detail
    return None


def _rollback(request, agent_id, current, editor, state) -> HttpResponse | None:
    # The version the person was looking at: a save since then makes this a conflict, not an overwrite.
    raw = {
        "to_version": _posted_int(request, "to_version", -1),
        "note": request.POST.get("rollback_note", ""),
        "expected_version": _posted_int(request, "expected_version", -1),
    }
    try:
        saved = config.config_rollback(agent_id=agent_id, raw=raw, editor=editor)
    except ApplicationError as error:
        state["error"] = f"Rollback not done: {error.detail}"
        return None
    messages.success(
        request, f"Rolled back: version {saved.version} holds version {raw['to_version']}'s configuration."
    )
    return redirect("agent-config", agent_id=agent_id)


def _posted_int(request: HttpRequest, name: str, default: int) -> int:
    try:
        return int(request.POST.get(name, default))
    except (TypeError, ValueError):
        return default


def _config_context(request, agent, current, editor, state) -> dict[str, Any]:
    versions = config.config_versions(agent_id=agent.agent_id)
    compare = None
    if "from" in request.GET and "to" in request.GET:
        try:
            older = config.config_version(agent_id=agent.agent_id, version=int(request.GET["from"]))
            newer = config.config_version(agent_id=agent.agent_id, version=int(request.GET["to"]))
            compare = {
                "from": older.version,
                "to": newer.version,
                "lines": config.config_diff(
                    older.document,
                    newer.document,
                    before_label=f"version {older.version}",
                    after_label=f"version {newer.version}",
                ),
            }
        except (ValueError, ApplicationError) as error:
            state["error"] = f"Cannot compare: {getattr(error, 'detail', error)}"
    return {
        "agent": agent,
        "current": current,
        "versions": versions,
        "may_edit": editor.may_edit,
        "state": state,
        "compare": compare,
        "audit": ConfigChange.objects.filter(agent_id=agent.agent_id)[:20],
        "version_numbers": [v.version for v in versions] + [0],
    }
