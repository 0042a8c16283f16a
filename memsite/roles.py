"""People's roles: viewer (reads everything), operator (also edits agent configs and pattern
definitions), admin (everything, including Django admin). A role is a Django group."""

from typing import Literal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLES)}


def user_role(user: AbstractBaseUser | AnonymousUser) -> Role | None:
    if not user.is_authenticated or getattr(user, "is_agent", False):
        return None  # agents have no person's role: what they may do is decided per endpoint
    if user.is_superuser:
        return "admin"
    names = {group.name for group in user.groups.all()}
    held = [role for role in ROLES if role in names]
    return max(held, key=_RANK.__getitem__) if held else None


def has_role(user: AbstractBaseUser | AnonymousUser, at_least: Role) -> bool:
    role = user_role(user)
    return role is not None and _RANK[role] >= _RANK[at_least]


def role_group(role: Role) -> Group:
    group, _ = Group.objects.get_or_create(name=role)
    return group
