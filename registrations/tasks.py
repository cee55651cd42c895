"""Work that happens after a registration change has committed."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task

from registrations.models import Registration

SUBJECTS = {
    "confirmed": "Your place is confirmed: {tournament}",
    "held": "Please confirm your place: {tournament}",
    "moved": "Your time has changed: {tournament}",
    "cancelled": "Your registration was cancelled: {tournament}",
}


# What the e-mail shows, read afresh when the task runs. Built once (it runs after every
# sign-up); `get` works on a copy.
_FOR_EMAIL = Registration.objects.select_related("tournament", "slot__location").only(
    "reference",
    "contact_name",
    "contact_email",
    "entrant_name",
    "hold_expires_at",
    "cancel_reason",
    "tournament__name",
    "slot__starts_at",
    "slot__ends_at",
    "slot__location__name",
    "slot__location__building",
)


@task()
def send_registration_email(*, registration_id: str, kind: str):
    """E-mail the contact about a registration; runs after commit, never under a lock."""
    registration = _FOR_EMAIL.get(pk=registration_id)
    if not registration.contact_email:
        return
    context = {
        "registration": registration,
        "kind": kind,
        "link": settings.LINEUP_BASE_URL
        + reverse("registrations:detail", args=[registration.reference]),
    }
    send_mail(
        subject=SUBJECTS[kind].format(tournament=registration.tournament.name),
        message=render_to_string("emails/registration.txt", context),
        from_email=None,
        recipient_list=[registration.contact_email],
    )
