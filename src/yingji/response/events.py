"""Events the response module publishes (the contract other modules rely on).

Receivers connect in their AppConfig.ready; senders call `.send(sender=...)` after
the change is committed (`transaction.on_commit`).

activation_started(sender, activation_id: int, plan_title: str, hazard: str,
                   level: str, level_label: str, area_codes: list[str],
                   is_exercise: bool, at: datetime)
    A plan was activated for an incident (level I–IV); `area_codes` is the
    activation's area (region codes; a code covers everything below it).
"""

from django.dispatch import Signal

activation_started = Signal()
