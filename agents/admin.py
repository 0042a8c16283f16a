from datetime import UTC, datetime

from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from agents.models import AgentToken
from agents.services import agent_token_rotate


@admin.register(AgentToken)
class AgentTokenAdmin(admin.ModelAdmin):
    list_display = ["agent_id", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["agent_id", "prefix"]
    readonly_fields = ["agent_id", "prefix", "token_hash", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke", "rotate"]

    def has_add_permission(self, request) -> bool:
        return False  # a token is shown once, by `manage.py agent_create` / `agent_token rotate`

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=datetime.now(UTC))
        self.message_user(request, f"{count} token(s) revoked")

    @admin.action(
        description="Rotate: a new token for each selected token's agent (older ones stop working)",
        permissions=["change"],
    )
    def rotate(self, request, queryset) -> TemplateResponse:
        agents = sorted(set(queryset.values_list("agent_id", flat=True)))
        issued = [agent_token_rotate(agent_id=agent_id) for agent_id in agents]
        response = TemplateResponse(
            request, "admin/agents/tokens_rotated.html", {**self.admin_site.each_context(request), "tokens": issued}
        )
        add_never_cache_headers(response)  # the tokens are shown once and must not linger in a cache
        return response
