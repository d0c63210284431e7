"""Incidents and what staff report during one: each route runs one command."""

from __future__ import annotations

from . import command_route

command_route(
    "/sites/<site>/incidents", "start_incident", "Start an incident (duty manager, admin)", 201
)
command_route(
    "/sites/<site>/incidents/current/update", "update_incident", "Change the eta or the message"
)
command_route(
    "/sites/<site>/incidents/current/all-clear", "end_incident", "All-clear with a reason"
)
command_route(
    "/sites/<site>/incidents/current/delivered", "record_delivery", "The alarm reached my phone"
)
command_route(
    "/sites/<site>/incidents/current/acknowledge", "acknowledge", "I have the alarm (got it)"
)
command_route(
    "/sites/<site>/incidents/current/safe", "report_safe", "I am safe at the assembly point"
)
command_route("/sites/<site>/zones/<zone>/claim", "claim_zone", "I am sweeping this zone")
command_route("/sites/<site>/zones/<zone>/clear", "clear_zone", "This zone is swept clear")
command_route("/sites/<site>/zones/<zone>/block", "block_zone", "This zone cannot be swept")
command_route("/sites/<site>/zones/<zone>/assign", "assign_zone", "Send someone to sweep it")
command_route("/sites/<site>/help-requests", "request_help", "A person needs help getting out", 201)
command_route(
    "/sites/<site>/help-requests/<int:help_id>/resolve", "resolve_help", "Help request resolved"
)
command_route(
    "/sites/<site>/backup-requests", "request_backup", "I need backup here (any time)", 201
)
command_route(
    "/sites/<site>/backup-requests/<int:backup_id>/cancel",
    "cancel_backup",
    "Cancel a backup request",
)
command_route(
    "/sites/<site>/backup-requests/<int:backup_id>/answer",
    "answer_backup",
    "On my way (guard, manager)",
)
command_route(
    "/sites/<site>/notice-settings", "configure_notices", "Public channel settings (admin)"
)
