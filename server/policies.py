"""Policies: every reaction from an event, or from an outside service's answer, back to a new
command, in one place. (The eventsourcing library's process applications are the model: a
policy reads what happened and names the command that follows; the command itself decides
inside its transaction, so two workers reacting to the same thing record it once.)

- a push service answered: `record_push_outcomes` (server/live/push.py sends);
- Twilio answered an escalation's SMS: `record_sms_outcome` (server/integrations/sms.py sends);
- Twilio answered a visitor's SMS: `record_visitor_sms` (server/integrations/sms.py sends);
- a mailbox provider answered: `record_mailbox_switch` (server/channels/mailboxes/switcher.py switches);
- someone has not confirmed the alarm in time: `escalate_alarm` (asked each second by
  server/timers.py while an incident runs; who is due is server/rules/escalation.py's rule).

The parts that react are built before the services exist and are handed these bound methods;
`Policies.serve` gives the policies the services once the app factory has made them.
"""

from __future__ import annotations

from . import commands
from .basics.clock import now_ms
from .basics.settings import sms_configured
from .rules.auth import command_line
from .rules.escalation import due_attempts


class Policies:
    def __init__(self):
        self.services = None  # the app's parts (server/services.py), given by `serve`

    def serve(self, services) -> None:
        self.services = services

    def record_push_outcomes(self, site: str, outcome: dict) -> None:
        self._run(site, "record_push_outcomes", outcome)

    def record_sms_outcome(self, site: str, outcome: dict) -> None:
        self._run(site, "record_sms_outcome", outcome)

    def record_visitor_sms(self, site: str, outcome: dict) -> None:
        self._run(site, "record_visitor_sms", outcome)

    def record_mailbox_switch(self, site: str, outcome: dict) -> None:
        self._run(site, "record_mailbox_switch", outcome)

    def escalate_due(self) -> list[str]:
        """Run `escalate_alarm` on every site with someone due; return those sites."""
        services = self.services
        now, ready = now_ms(), sms_configured(services.settings)
        with services.store.reading() as db:
            running = list(db.query("SELECT * FROM incidents WHERE ended_at IS NULL"))
            sites = [i["site"] for i in running if due_attempts(db, i, now, ready)]
        for site in sites:  # another worker may have been first: then it records nothing
            commands.execute(services, command_line(site), site, "escalate_alarm")
        return sites

    def _run(self, site: str, name: str, outcome: dict) -> None:
        commands.execute(self.services, command_line(site), site, name, {"outcome": outcome})
