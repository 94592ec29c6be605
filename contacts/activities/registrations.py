"""What activities plugs into the shared registries (called once from `ActivitiesConfig.ready()`):
its API routes (`crm.registry`), the "My work" navigation entry (`crm.nav`), how its changes read
(`crm.history`) and two customer-timeline sources, interactions and tasks (`contacts.timeline`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from contacts import panels, timeline
from contacts.activities import selectors
from contacts.activities.models import Channel, Interaction, Task
from crm import history, nav
from crm.registry import ApiRoute, api_routes

SUBJECTS = ("contacts.contact", "contacts.company")


def register() -> None:
    from contacts.activities.mail import registrations as mail

    mail.register()
    from contacts.activities.tracking import registrations as tracking

    tracking.register()  # email opens/clicks and page views; hooks for leads, marketing
    from contacts.activities import meetings

    # the record page's "Schedule a meeting", its task, attendees' iTIP REPLYs by inbound mail
    meetings.register()
    api = "contacts.activities.api"
    api_routes.register(ApiRoute("interactions", f"{api}.InteractionViewSet", "interaction", 30))
    api_routes.register(ApiRoute("tasks", f"{api}.TaskViewSet", "task", order=40))

    nav.register_nav(
        nav.NavEntry(
            "my-work",
            _("My work"),
            "activities:my-work",
            order=5,
            active_for=("activities:my-work", "activities:task"),
            badge_url_name="activities:my-work-count",  # overdue + due today
            group="work",
        )
    )
    for key, label, url_name, order in (
        ("my-day", _("My day"), "activities:home", 4),
        ("calendar", _("Calendar"), "activities:calendar", 6),
        ("feed", _("Feed"), "activities:feed", 7),
    ):
        nav.register_nav(nav.NavEntry(key, label, url_name, order, (url_name,), group="work"))
    nav.register_nav(
        nav.NavEntry(
            "unmatched-mail",
            _("Unmatched mail"),
            "activities:mail-unmatched",
            order=8,
            active_for=("activities:mail-unmatched",),
            group="work",
            available=lambda user: user.has_perm("activities.triage_mailmessage"),
        )
    )

    history.register_history(Interaction, hidden={"target_type", "target_id"})
    history.register_history(Task, hidden={"target_type", "target_id"})

    # The record page: quick actions in its header, their forms open above the timeline.
    panels.register_panel(
        panels.RecordPanel(
            "activities", "activities/partials/record_composer.html", 10, SUBJECTS, "main"
        )
    )
    panels.register_panel(
        panels.RecordPanel(
            "activity-actions", "activities/partials/record_actions.html", 10, SUBJECTS, "actions"
        )
    )
    timeline.register_source(
        timeline.TimelineSource(
            kind="interaction",
            label=_("Interactions"),
            template="activities/timeline_interaction.html",
            entries=selectors.interaction_timeline_entries,
            order=20,
            subjects=SUBJECTS,
            facets=tuple(Channel.choices),  # the channel filter
        )
    )
    timeline.register_source(
        timeline.TimelineSource(
            kind="task",
            label=_("Tasks"),
            template="activities/timeline_task.html",
            entries=selectors.task_timeline_entries,
            order=30,
            subjects=SUBJECTS,
        )
    )
