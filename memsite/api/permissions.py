"""Who may do what over the API: agents read what the team reads and write only as themselves;
people read with any role, and operators and admins may also correct outcomes and edit configs."""

from rest_framework.permissions import BasePermission

from memsite.roles import has_role


def is_agent(user) -> bool:
    return getattr(user, "is_agent", False)


class IsTeamMember(BasePermission):
    """An agent, or a person with at least the viewer role."""

    message = "log in with a role (viewer, operator, admin) or send an agent token"

    def has_permission(self, request, view) -> bool:
        return is_agent(request.user) or has_role(request.user, "viewer")


class IsAgent(BasePermission):
    message = "only agents may do this: send an agent token"

    def has_permission(self, request, view) -> bool:
        return is_agent(request.user)
