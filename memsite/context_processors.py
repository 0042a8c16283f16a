from memsite.roles import user_role


def role(request) -> dict:
    """The signed-in person's role, for the navigation bar."""
    return {"user_role": user_role(request.user) if hasattr(request, "user") else None}
