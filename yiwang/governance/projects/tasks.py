"""Background work of key projects (Django's Tasks API)."""

from __future__ import annotations

from django.tasks import task


@task
def escalate_unrecovered_nodes() -> int:
    """Escalate red nodes still not recovered after their supervision's reply deadline (daily; an
    escalation is recorded once per supervision, so a rerun adds nothing)."""
    from yiwang.governance.projects.actions import escalate_unrecovered

    return len(escalate_unrecovered())
