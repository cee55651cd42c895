import base64
import secrets
import time

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.models import TimestampedModel
from common.text import lowered
from participants.models import Participant, Team
from tournaments.models import Slot, Tournament


def new_reference():
    # 20 random bytes: 160 bits, well past guessing for a link that grants view and cancel.
    return secrets.token_urlsafe(20)


# Letters and digits that cannot be misheard or misread for one another at a busy door: no
# 0/O, 1/I/L, 5/S, 2/Z, 8/B or U/V.
SHORT_REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTWXY34679"
SHORT_REFERENCE_LENGTH = 6


def new_short_reference():
    """Six characters (23**6: about 148 million) read aloud at check-in; unique per tournament
    by a database rule, and never a key to the entry (the long reference is)."""
    return "".join(secrets.choice(SHORT_REFERENCE_ALPHABET) for _ in range(SHORT_REFERENCE_LENGTH))


# The languages an entrant can sign up in; their e-mails are written in the one they chose.
# A new language in LANGUAGES changes the rule below: makemigrations writes the migration.
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


def language_field() -> models.CharField:
    return models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text="The language of the sign-up page: the e-mails are written in it.",
    )


def format_short_reference(code: str) -> str:
    """ "K7M4QX" as people read it: "K7M-4QX"."""
    return f"{code[:3]}-{code[3:]}" if len(code) == SHORT_REFERENCE_LENGTH else code


def short_reference_clean(typed: str) -> str:
    """What staff typed ("k7m 4qx", "K7M-4QX") as stored."""
    return "".join(c for c in (typed or "").upper() if c.isalnum())


class RegistrationQuerySet(models.QuerySet):
    def active(self):
        """Entries that hold their places: every status but cancelled."""
        return self.filter(status__in=Registration.ACTIVE_STATUSES)


class Registration(TimestampedModel):
    """A participant's or a team's entry in one tournament, optionally placed in a slot."""

    class Status(models.TextChoices):
        RESERVED = "reserved", _("Reserved (awaiting confirmation)")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")
        CHECKED_IN = "checked_in", _("Checked in")
        NO_SHOW = "no_show", _("No-show")

    # Every status but cancelled holds its place.
    ACTIVE_STATUSES = (Status.RESERVED, Status.CONFIRMED, Status.CHECKED_IN, Status.NO_SHOW)

    tournament = models.ForeignKey(
        Tournament, on_delete=models.PROTECT, related_name="registrations"
    )
    slot = models.ForeignKey(
        Slot, null=True, blank=True, on_delete=models.PROTECT, related_name="registrations"
    )
    participant = models.ForeignKey(
        Participant,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="registrations"
    )
    seats = models.PositiveSmallIntegerField(
        default=1, help_text="Places taken in the slot: 1, or the team's member count."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONFIRMED)
    entrant_name = models.CharField(
        max_length=200, help_text="The participant's or team's name as entered."
    )
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    language = language_field()
    reference = models.CharField(max_length=64, unique=True, default=new_reference, editable=False)
    # Read aloud at the door; the long `reference` stays the key to the private page.
    short_reference = models.CharField(
        max_length=SHORT_REFERENCE_LENGTH, default=new_short_reference, editable=False
    )
    idempotency_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    override_reason = models.TextField(blank=True)
    # Places an organizer override added to the slot's capacity; given back when it leaves.
    override_seats = models.PositiveSmallIntegerField(default=0, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        # The door's own right: the check-in pages (check in, undo, no-show) and nothing else.
        permissions = [("check_in_registration", "Can check entrants in at the door")]
        constraints = [
            models.CheckConstraint(
                name="registration_participant_or_team",
                condition=Q(participant__isnull=True) | Q(team__isnull=True),
            ),
            models.CheckConstraint(name="registration_seats_positive", condition=Q(seats__gte=1)),
            models.UniqueConstraint(
                fields=["participant", "tournament"],
                condition=Q(participant__isnull=False) & ~Q(status="cancelled"),
                name="one_active_registration_per_participant",
            ),
            models.UniqueConstraint(
                fields=["team", "tournament"],
                condition=Q(team__isnull=False) & ~Q(status="cancelled"),
                name="one_active_registration_per_team",
            ),
            models.UniqueConstraint(
                fields=["tournament", "short_reference"],
                name="registration_unique_short_reference",
            ),
            models.CheckConstraint(
                name="registration_cancelled_has_time",
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
            ),
            models.CheckConstraint(
                name="registration_checked_in_has_time",
                condition=~Q(status="checked_in") | Q(checked_in_at__isnull=False),
            ),
            models.CheckConstraint(
                name="registration_language_known", condition=Q(language__in=LANGUAGE_CODES)
            ),
            # Targets of the results' composite foreign keys: a result keeps a copy of its
            # entry's entrant, and PostgreSQL keeps the copy equal (ON UPDATE CASCADE).
            models.UniqueConstraint(
                fields=["id", "participant"], name="registration_participant_key"
            ),
            models.UniqueConstraint(fields=["id", "team"], name="registration_team_key"),
        ]
        indexes = [
            models.Index(fields=["slot", "status"], name="registration_slot_status_idx"),
            models.Index(fields=["participant", "status"], name="registration_participant_idx"),
            models.Index(fields=["tournament", "status"], name="registration_tournament_idx"),
            models.Index(
                fields=["hold_expires_at"],
                condition=Q(status="reserved"),
                name="registration_open_hold_idx",
            ),
        ]

    def __str__(self):
        return f"{self.entrant_name} · {self.tournament}"

    @property
    def short_reference_display(self) -> str:
        return format_short_reference(self.short_reference)

    @property
    def status_word(self) -> str:
        """The status inside a sentence ("confirmed"), lazy: a refusal that names it reads in
        one language, the staff's English or the page's."""
        return lowered(self.Status(self.status).label)


class RegistrationMember(TimestampedModel):
    """One person in a team entry: a listed participant, or a name the coach typed."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="members")
    participant = models.ForeignKey(
        Participant,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="team_entries",
    )
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "participant"],
                condition=Q(participant__isnull=False),
                name="registration_member_unique_participant",
            ),
        ]

    def __str__(self):
        return self.name


def next_position():
    # Microseconds since the epoch: later joiners come later; a reorder moves one past another.
    return time.time_ns() // 1000


class WaitlistEntryQuerySet(models.QuerySet):
    def on_list(self):
        """Entries still in line: waiting, or holding an offer."""
        return self.filter(status__in=WaitlistEntry.ON_LIST)


class WaitlistEntry(TimestampedModel):
    """Someone waiting for a place in a full slot (or, without a slot, the first free time
    they can take, or a place in a slot-less tournament at its cap). A freed place comes as
    an offer: a held registration (`registration`) they claim from the e-mail link
    (`registrations/services/waitlist_offers.py`)."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offer made"
        CLAIMED = "claimed", "Claimed the place"
        EXPIRED = "expired", "Offer expired"
        LEFT = "left", "Left the list"
        REMOVED = "removed", "Removed by the organizers"

    ON_LIST = (Status.WAITING, Status.OFFERED)

    tournament = models.ForeignKey(
        Tournament, on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    # Empty: any time (the first free slot the entrant can take), or a slot-less tournament.
    slot = models.ForeignKey(
        Slot, null=True, blank=True, on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.PROTECT, related_name="waitlist"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="waitlist"
    )
    # A team entry's members as [participant id or null, name]: the offer books them.
    members = models.JSONField(default=list, blank=True)
    seats = models.PositiveSmallIntegerField(
        default=1, help_text="Places the entry waits for: 1, or the team's member count."
    )
    entrant_name = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=40, blank=True)
    language = language_field()
    reference = models.CharField(max_length=64, unique=True, default=new_reference, editable=False)
    idempotency_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )
    position = models.BigIntegerField(default=next_position, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    # The latest offer: a registration held for this entry (reserved until claimed).
    registration = models.OneToOneField(
        Registration,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="waitlist_entry",
    )
    offers_made = models.PositiveSmallIntegerField(default=0, editable=False)
    offered_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = WaitlistEntryQuerySet.as_manager()

    class Meta:
        ordering = ["position", "created_at"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.CheckConstraint(
                name="waitlist_participant_or_team",
                condition=Q(participant__isnull=True) | Q(team__isnull=True),
            ),
            models.CheckConstraint(name="waitlist_seats_positive", condition=Q(seats__gte=1)),
            models.CheckConstraint(
                name="waitlist_language_known", condition=Q(language__in=LANGUAGE_CODES)
            ),
            models.CheckConstraint(
                name="waitlist_offer_has_registration",
                condition=~Q(status="offered") | Q(registration__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["participant", "tournament"],
                condition=Q(participant__isnull=False) & Q(status__in=["waiting", "offered"]),
                name="one_waitlist_entry_per_participant",
            ),
            models.UniqueConstraint(
                fields=["team", "tournament"],
                condition=Q(team__isnull=False) & Q(status__in=["waiting", "offered"]),
                name="one_waitlist_entry_per_team",
            ),
        ]
        indexes = [
            models.Index(
                fields=["tournament", "position"],
                condition=Q(status="waiting"),
                name="waitlist_waiting_idx",
            ),
        ]

    def __str__(self):
        return f"{self.entrant_name} · waiting for {self.slot or self.tournament}"

    @property
    def on_list(self):
        return self.status in self.ON_LIST


class RetriedWork(TimestampedModel):
    """The retry state of work a worker does after commit (an e-mail, a webhook delivery),
    kept in our table rather than the task backend's (`registrations/retries.py` claims,
    backs off and sweeps it); each kind names its own states."""

    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # When a task was last enqueued for it: the periodic job enqueues a retry once it is due.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # When a worker took it (state "sending"); the sweep re-queues it if that worker died.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        abstract = True


class Notification(RetriedWork):
    """One e-mail to send about a registration, or about a waitlist entry (which has no
    registration until it is offered a place): written in the same transaction as the change
    it reports, sent by the worker afterwards. The retry state lives here, not in the task
    backend, so a lost or failed task never loses the message."""

    class Kind(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmation"
        HELD = "held", "Hold to confirm"
        CANCELLED = "cancelled", "Cancellation"
        MOVED = "moved", "Move or override"
        REMINDER = "reminder", "Reminder the day before"
        OFFER = "offer", "Waitlist offer"
        OFFER_EXPIRED = "offer_expired", "Waitlist offer expired"
        LINKS = "links", "Private links sent again"
        WAITLIST_JOINED = "waitlist_joined", "Joined the waitlist"

    # The kinds about a waitlist entry rather than a registration.
    WAITLIST_KINDS = (Kind.WAITLIST_JOINED,)

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    # Exactly one of the two is set (the constraint below).
    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
    )
    waitlist_entry = models.ForeignKey(
        WaitlistEntry,
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The address at the time of the change: a later contact edit does not redirect old mail.
    recipient = models.EmailField()
    # What the message must show that the registration no longer says (a move's old time).
    data = models.JSONField(default=dict, blank=True)
    # Set where a kind goes out once per registration (a reminder per slot and time).
    key = models.CharField(max_length=200, blank=True, editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=~Q(key=""), name="notification_unique_key"
            ),
            models.CheckConstraint(
                name="notification_sent_has_time",
                condition=~Q(state="sent") | Q(sent_at__isnull=False),
            ),
            models.CheckConstraint(
                name="notification_about_one_thing",
                condition=Q(registration__isnull=False, waitlist_entry__isnull=True)
                | Q(registration__isnull=True, waitlist_entry__isnull=False),
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="queued"),
                name="notification_due_idx",
            ),
            models.Index(
                fields=["claimed_at"], condition=Q(state="sending"), name="notification_sending_idx"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.recipient}"


class NotificationText(TimestampedModel):
    """A tournament's own subject and intro for one kind of e-mail (blank: the default)."""

    tournament = models.ForeignKey(
        Tournament, on_delete=models.CASCADE, related_name="notification_texts"
    )
    kind = models.CharField(max_length=20, choices=Notification.Kind.choices)
    subject = models.CharField(
        max_length=200,
        blank=True,
        help_text="Plain text. Placeholders: {entrant} {tournament} {time} {room}. "
        "Blank: the default subject.",
    )
    intro = models.TextField(
        blank=True,
        help_text="Plain text, shown first in the e-mail. Placeholders: {entrant} {tournament} "
        "{time} {room}. Blank: the default text.",
    )

    class Meta:
        ordering = ["tournament", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["tournament", "kind"], name="notification_text_unique_kind"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.tournament}"


def new_webhook_secret():
    # Standard Webhooks secrets: "whsec_" and the base64 of the key (24 random bytes).
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookEndpoint(TimestampedModel):
    """Where a tournament's registration changes are sent (registrations.sync)."""

    class Event(models.TextChoices):
        CREATED = "registration.created", "Created"
        CONFIRMED = "registration.confirmed", "Confirmed"
        MOVED = "registration.moved", "Moved"
        CANCELLED = "registration.cancelled", "Cancelled"
        CHECKED_IN = "registration.checked_in", "Checked in"
        NO_SHOW = "registration.no_show", "No-show"
        UPDATED = "registration.updated", "Details changed"
        OFFERED = "registration.offered", "Waitlist offer made"

    tournament = models.ForeignKey(
        Tournament, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField("URL", max_length=500)
    secret = models.CharField(
        max_length=100,
        default=new_webhook_secret,
        help_text="Standard Webhooks signing secret (whsec_…); give it to the receiver.",
    )
    # Empty: every event.
    events = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["tournament", "url"]

    def __str__(self):
        return self.url

    def wants(self, event: str) -> bool:
        return not self.events or event in self.events


class WebhookDelivery(RetriedWork):
    """The outbox: one change of a registration for one endpoint, written in the transaction
    of the change with a snapshot of the registration as it then was. Sequential ids give the
    order per registration (every change holds the registration's row lock while it writes)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Delivered"
        FAILED = "failed", "Failed"

    id = models.BigAutoField(primary_key=True)
    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=40, choices=WebhookEndpoint.Event.choices)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # The order check: is an earlier change of this registration still on its way?
            models.Index(
                fields=["endpoint", "registration", "id"],
                condition=Q(state__in=["queued", "sending"]),
                name="webhook_delivery_open_idx",
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="queued"),
                name="webhook_delivery_due_idx",
            ),
        ]

    def __str__(self):
        return f"{self.event} #{self.pk}"


class WebhookAttempt(models.Model):
    """One try of a delivery: when, the answer's status and its first bytes, or the error."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.status_code or self.error[:40]} at {self.at:%Y-%m-%d %H:%M:%S}"
