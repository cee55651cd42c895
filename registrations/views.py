"""Public sign-up, and the private reference page where an entry is viewed, confirmed or
cancelled. Views are thin: form → engine (registrations/services.py) → redirect.
"""

from itertools import groupby

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from common import metrics
from common.times import local_date, tournament_zone_activate
from config.client_ip import client_ip
from participants import selectors as participant_selectors
from registrations import errors as registration_errors
from registrations import proof_of_work, selectors, services
from registrations.forms import ConfirmActionForm, SignupForm, new_idempotency_key
from registrations.models import Registration
from registrations.rules import entrant_cancel_refusal
from tournaments import selectors as tournament_selectors

ACTOR = "public"


def _signup_rate(group, request):
    return settings.LINEUP_RATE_SIGNUP


def _reference_rate(group, request):
    return settings.LINEUP_RATE_REFERENCE


# --- signing up ------------------------------------------------------------------------------


def _chosen_entrant(request, tournament):
    """The listed participant or team picked in the search (query string), or (None, None).

    An id that is unknown, malformed or of the wrong kind for this tournament is a 404.
    """
    participant_id = request.GET.get("participant")
    team_id = request.GET.get("team")
    participant = team = None
    if participant_id:
        participant = participant_selectors.participant_get_public(pk=participant_id)
        if participant is None or tournament.is_team_event:
            raise Http404("No such participant.")
    elif team_id:
        team = participant_selectors.team_get_public(pk=team_id)
        if team is None or not tournament.is_team_event:
            raise Http404("No such team.")
    return participant, team


def _slot_groups(slots):
    """Bookable slots grouped by local day, for the form's fieldsets."""
    return [
        (day, list(day_slots))
        for day, day_slots in groupby(slots, key=lambda s: local_date(s.starts_at))
    ]


def _slot_choices(request, tournament):
    """(chosen, slots): a bookable slot picked on the tournament page is offered alone (with
    a link to the others); otherwise every bookable slot is listed."""
    chosen = tournament_selectors.slot_get_for_tournament(
        tournament=tournament, pk=request.GET.get("slot")
    )
    if chosen is not None and not (chosen.is_bookable and chosen.starts_at > timezone.now()):
        chosen = None
    if chosen is not None:
        return chosen, [chosen]
    return None, tournament_selectors.slot_list_bookable(tournament=tournament)


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key="ip", rate=_signup_rate, method="POST", group="signup")
def sign_up_page(request, slug):
    tournament = tournament_selectors.tournament_get_public(slug=slug)
    participant, team = _chosen_entrant(request, tournament)
    if participant is None and team is None and not tournament.allows_typed_names:
        messages.info(request, "First find yourself on the list.")
        return redirect("participants:search", slug=tournament.slug)
    if not tournament.registration_is_open():
        opens = tournament.registration_opens_at
        return render(
            request,
            "registrations/registration_closed.html",
            {
                "tournament": tournament,
                "opens_later": tournament.status == tournament.Status.PUBLISHED
                and opens is not None
                and timezone.now() < opens,
            },
            status=200 if request.method != "POST" else 409,
        )

    form_kwargs = {"tournament": tournament, "participant": participant, "team": team}
    pow_challenge = ""
    if request.method == "POST":
        form = SignupForm(request.POST, **form_kwargs)
        if form.is_valid():
            response, pow_challenge = _sign_up(request, tournament, form)
            if response is not None:
                return response
        elif tournament.requires_proof_of_work:
            pow_challenge = request.POST.get("pow_challenge", "")
    else:
        form = SignupForm(
            initial={"idempotency_key": new_idempotency_key(), "slot": request.GET.get("slot")},
            **form_kwargs,
        )
    if tournament.requires_proof_of_work and not pow_challenge:
        pow_challenge = proof_of_work.challenge_issue(
            tournament=tournament, client=client_ip(request)
        )

    chosen, slots = _slot_choices(request, tournament)
    query = request.GET.copy()
    query.pop("slot", None)
    return render(
        request,
        "registrations/registration_form.html",
        {
            "tournament": tournament,
            "participant": participant,
            "participant_name": participant.public_name(full=tournament.public_full_names)
            if participant
            else "",
            "team": team,
            "form": form,
            "slot_groups": _slot_groups(slots),
            "single_slot": chosen is not None,
            "slot_gone": bool(request.GET.get("slot")) and chosen is None and not form.is_bound,
            "selected_slot": form.selected_slot_id() or (str(chosen.pk) if chosen else ""),
            "all_slots_url": f"{request.path}?{query.urlencode()}",
            "pow_challenge": pow_challenge,
            "pow_nojs_seconds": settings.LINEUP_POW_NOJS_SECONDS,
        },
        status=400 if form.is_bound else 200,
    )


def _sign_up(request, tournament, form):
    """Run a valid form through the engine: (response, challenge to re-render with)."""
    data = form.cleaned_data
    key = data["idempotency_key"]
    if tournament.requires_proof_of_work:
        # A resubmitted form (double click, reload) lands on the entry it already made
        # before its challenge, already spent, is checked again. Without a puzzle the engine
        # itself answers a repeated key with the first registration.
        done = selectors.registration_reference_for_key(idempotency_key=key)
        if done is not None:
            if done[1] != tournament.pk:
                raise Http404("No such registration.")
            return redirect("registrations:detail", reference=done[0]), ""
        challenge = data.get("pow_challenge", "")
        try:
            proof_of_work.challenge_verify(
                tournament=tournament,
                challenge=challenge,
                nonce=data.get("pow_nonce"),
                owner=key,
                client=client_ip(request),
            )
        except proof_of_work.ProofOfWorkFailed as exc:
            form.add_error(None, exc.message)
            return None, challenge if exc.keep_challenge else ""
    team_event = tournament.is_team_event
    try:
        registration = services.registration_create(
            tournament=tournament,
            actor=ACTOR,
            slot_id=data["slot"],  # the engine reads (and locks) it by id
            participant=form.participant,
            team=form.team,
            members=form.member_entries() if team_event else (),
            entrant_name=data.get("entrant_name", ""),
            contact_name=data["contact_name"],
            contact_email=data["contact_email"],
            contact_phone=data["contact_phone"],
            idempotency_key=key,
            hold=True,  # held until confirmed from the e-mail, where the tournament asks so
        )
    except (registration_errors.SlotFull, registration_errors.SlotUnavailable) as exc:
        metrics.refusal_counted(exc)
        slot = tournament_selectors.slot_get_for_tournament(tournament=tournament, pk=data["slot"])
        if slot is None:  # unknown, cancelled or another tournament's: not one we offered
            form.add_error("slot", "Choose a time from the list.")
            return None, data.get("pow_challenge", "")
        return _slot_taken(request, tournament, form, slot, exc), ""
    except registration_errors.RegistrationError as exc:
        metrics.refusal_counted(exc)
        form.add_error(None, exc.public_message(who=_public_who(tournament, form)))
        return None, data.get("pow_challenge", "")
    metrics.SIGNUPS.inc()
    if registration.tournament_id != tournament.pk:
        raise Http404("No such registration.")
    return redirect("registrations:detail", reference=registration.reference), ""


def _public_who(tournament, form):
    """The entrant as public pages name them: a team's name, a listed person's display name,
    or the name typed in the form."""
    if form.team is not None:
        return form.team.name
    if form.participant is not None:
        return form.participant.public_name(full=tournament.public_full_names)
    return form.cleaned_data.get("entrant_name") or "This entrant"


def _slot_taken(request, tournament, form, slot, exc):
    """The chosen slot filled (or closed) between page load and submit: offer the nearest."""
    seats = len(form.member_entries()) if tournament.is_team_event else 1
    nearest = tournament_selectors.slot_list_nearest_open(
        tournament=tournament, around=slot, seats=max(seats, 1)
    )
    return render(
        request,
        "registrations/registration_slot_taken.html",
        {
            "tournament": tournament,
            "form": form,
            "slot": slot,
            "message": exc.message,
            "nearest": nearest,
            "pow_challenge": form.cleaned_data.get("pow_challenge", ""),
            "action": request.get_full_path(),
        },
        status=409,
    )


# --- the private reference page ----------------------------------------------------------------


def _cancel_refusal(registration):
    return entrant_cancel_refusal(
        registration,
        slot_starts_at=registration.slot.starts_at if registration.slot else None,
        now=timezone.now(),
    )


@require_http_methods(["GET", "HEAD"])
@ratelimit(key="ip", rate=_reference_rate, group="reference")
def reference_page(request, reference):
    registration = selectors.registration_get_by_reference(reference=reference)
    tournament_zone_activate(registration.tournament)  # its times as the venue reads them
    return render(
        request,
        "registrations/registration_detail.html",
        {
            "registration": registration,
            "link": request.build_absolute_uri(
                reverse("registrations:detail", args=[registration.reference])
            ),
            "can_cancel": _cancel_refusal(registration) is None,
            "can_confirm": registration.status == Registration.Status.RESERVED,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key="ip", rate=_reference_rate, method="POST", group="reference-change")
def cancel_page(request, reference):
    registration = selectors.registration_get_by_reference(reference=reference)
    tournament_zone_activate(registration.tournament)  # its times as the venue reads them
    detail = redirect("registrations:detail", reference=registration.reference)
    refusal = _cancel_refusal(registration)
    if refusal:  # shown at once; the engine checks again under lock
        messages.error(request, refusal)
        return detail
    form = ConfirmActionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.registration_cancel(
                registration=registration,
                actor=ACTOR,
                reason=form.cleaned_data["reason"],
                by_entrant=True,
            )
        except registration_errors.RegistrationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The registration is cancelled and the place is free.")
        return detail
    return render(
        request,
        "registrations/registration_cancel.html",
        {"registration": registration, "form": form},
        status=400 if form.is_bound else 200,
    )


@require_POST
@ratelimit(key="ip", rate=_reference_rate, method="POST", group="reference-change")
def confirm_page(request, reference):
    registration = selectors.registration_get_by_reference(reference=reference)
    tournament_zone_activate(registration.tournament)  # its times as the venue reads them
    try:
        services.registration_confirm(registration=registration, actor=ACTOR)
    except registration_errors.RegistrationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Your place is confirmed.")
    return redirect("registrations:detail", reference=registration.reference)
