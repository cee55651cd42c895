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
from django.utils.translation import get_language, gettext, ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited
from django_ratelimit.decorators import ratelimit
from django_ratelimit.exceptions import Ratelimited

from common import metrics
from common.phones import phone_key
from common.text import fold
from common.times import local_date, local_when, tournament_zone_activate
from config.client_ip import client_ip
from participants import selectors as participant_selectors
from registrations import door_codes, proof_of_work, selectors, services
from registrations import errors as registration_errors
from registrations.forms import (
    ChangeTimeForm,
    ConfirmActionForm,
    LostLinkForm,
    SignupForm,
    new_idempotency_key,
)
from registrations.models import Registration
from registrations.rules import entrant_cancel_refusal, entrant_change_refusal
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


def _offer_groups(offers):
    """Offered times grouped by local day, for the form's fieldsets."""
    return [
        (day, list(day_offers))
        for day, day_offers in groupby(offers, key=lambda o: local_date(o.slot.starts_at))
    ]


def _entry_people(form, tournament):
    """(person ids, team id, seats) of the entry the form describes as it stands: the team's
    ticked members (all of them before the first submit) and its typed names."""
    if form.participant is not None:
        return (form.participant.pk,), None, 1
    if not tournament.is_team_event:
        return (), None, 1
    ids = []
    if form.team is not None:
        members = list(form.team.members.all())
        chosen = set(form.data.getlist("members")) if form.is_bound else None
        ids = [p.pk for p in members if chosen is None or str(p.pk) in chosen]
    typed = form.data.get("extra_members", "") if form.is_bound else ""
    typed_count = sum(1 for line in str(typed).splitlines() if line.strip())
    return tuple(ids), form.team.pk if form.team else None, max(len(ids) + typed_count, 1)


def _slot_offers(request, tournament, form, who):
    """What the times part of the form shows: every open time to come, each with the reason
    it cannot be taken by this entry; a time picked on the tournament page is offered alone
    when it can be taken (with a link to the others)."""
    person_ids, team_id, seats = _entry_people(form, tournament)
    asked = request.GET.get("slot")
    entry = {"who": who, "person_ids": person_ids, "team_id": team_id, "seats": seats}
    if asked and not form.is_bound:
        # The time picked on the previous page is shown alone when it can be taken: read it
        # alone, not the thousands of times a festival has (the opening minute's busiest page).
        slot = tournament_selectors.slot_get_bookable(tournament=tournament, pk=asked, seats=0)
        if slot is not None:
            offers, cap_reason = selectors.slot_offers(tournament=tournament, slots=[slot], **entry)
            if offers[0].available:
                return {
                    "offers": offers,
                    "cap_reason": cap_reason,
                    "seats": seats,
                    "chosen": offers[0],
                    "next_open": offers[0],
                    "open_count": 1,
                }
    slots = tournament_selectors.slot_list_bookable(tournament=tournament, seats=0)
    offers, cap_reason = selectors.slot_offers(tournament=tournament, slots=slots, **entry)
    chosen = next((o for o in offers if str(o.slot.pk) == asked), None) if asked else None
    open_offers = [o for o in offers if o.available]
    return {
        "offers": offers,
        "cap_reason": cap_reason,
        "seats": seats,
        "chosen": chosen,
        "next_open": open_offers[0] if open_offers else None,
        "open_count": len(open_offers),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key="ip", rate=_signup_rate, method="POST", group="signup")
def sign_up_page(request, slug):
    tournament = tournament_selectors.tournament_get_public(slug=slug)
    participant, team = _chosen_entrant(request, tournament)
    if participant is None and team is None and not tournament.allows_typed_names:
        messages.info(request, gettext("First find yourself on the list."))
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
    status = None
    if request.method == "POST" and "update_times" in request.POST:
        # "Show the times for these members" (without JavaScript): the form again, as filled
        # in, with the times this entry can take; nothing is checked or booked yet.
        form = SignupForm(request.POST, **form_kwargs)
        form.errors.clear()  # shown again, not judged: nothing was submitted
        pow_challenge = request.POST.get("pow_challenge", "")
        status = 200
    elif request.method == "POST":
        form = SignupForm(request.POST, **form_kwargs)
        if form.is_valid():
            namesakes = _listed_namesakes(request, tournament, form)
            if namesakes:
                return _ask_is_this(request, tournament, form, namesakes)
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

    participant_name = (
        participant.public_name(full=tournament.public_full_names) if participant else ""
    )
    times = _slot_offers(
        request, tournament, form, who=team.name if team else participant_name or "This entrant"
    )
    chosen = times["chosen"]
    single = chosen is not None and chosen.available and not form.is_bound
    only_open = request.GET.get("open") == "1"
    shown = [chosen] if single else [o for o in times["offers"] if o.available or not only_open]
    query = request.GET.copy()
    query.pop("slot", None)
    query.pop("open", None)
    base = f"{request.path}?{query.urlencode()}"
    # A time picked on another page that has filled since: its waitlist is one click away.
    full_slot = chosen.slot if chosen and not chosen.available and chosen.slot.is_full else None
    waitlist_url = reverse("registrations:waitlist_join", args=[tournament.slug])
    return render(
        request,
        "registrations/registration_form.html",
        {
            "tournament": tournament,
            "participant": participant,
            "participant_name": participant_name,
            "team": team,
            "form": form,
            "slot_groups": _offer_groups(shown),
            "single_slot": single,
            "only_open": only_open and not single,
            "hidden_count": len(times["offers"]) - len(shown) if not single else 0,
            "cap_reason": times["cap_reason"],
            "seats": times["seats"],
            "next_open": None if single else times["next_open"],
            "slot_gone": bool(request.GET.get("slot")) and not single and not form.is_bound,
            "chosen": chosen,
            "selected_slot": form.selected_slot_id() or (str(chosen.slot.pk) if single else ""),
            "all_slots_url": base,
            "open_slots_url": f"{base}&open=1" if query else f"{base}open=1",
            "full_slot": full_slot,
            "waitlist_url": f"{waitlist_url}?{query.urlencode()}",
            "pow_challenge": pow_challenge,
            "pow_nojs_seconds": settings.LINEUP_POW_NOJS_SECONDS,
            "reload_url": f"{base}",
        },
        status=status or (400 if form.is_bound else 200),
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
            form.add_error(None, exc.translated())
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
            language=get_language(),  # the page's: the e-mails follow it
        )
    except (registration_errors.SlotFull, registration_errors.SlotUnavailable) as exc:
        metrics.refusal_counted(exc)
        slot = tournament_selectors.slot_get_for_tournament(tournament=tournament, pk=data["slot"])
        if slot is None:  # unknown, cancelled or another tournament's: not one we offered
            form.add_error("slot", gettext("Choose a time from the list."))
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


def _listed_namesakes(request, tournament, form):
    """Listed people a typed name is ("Salvador Cabanas" for the listed "Salvador Cabañas"),
    unless the person already answered that it is someone else."""
    name = form.cleaned_data.get("entrant_name")
    if not name or tournament.is_team_event or request.POST.get("not_listed") == "1":
        return []
    return participant_selectors.participant_list_same_name(name=name)


def _ask_is_this(request, tournament, form, namesakes):
    """'Is this …?' before a typed name makes a second entry for someone on the list: each
    answer submits the same details again, as that listed person or as the typed name."""
    query = request.GET.copy()
    query.pop("participant", None)
    full = tournament.public_full_names
    return render(
        request,
        "registrations/registration_name_check.html",
        {
            "tournament": tournament,
            "form": form,
            "typed": form.cleaned_data["entrant_name"],
            "namesakes": [
                (p, p.public_name(full=full), f"{request.path}?participant={p.pk}")
                for p in namesakes
            ],
            "action": request.get_full_path(),
            "pow_challenge": form.cleaned_data.get("pow_challenge", ""),
        },
    )


def _refusal_heading(slot, seats, exc):
    """What happened, in the words of the person who asked: not always "it just filled"."""
    if isinstance(exc, registration_errors.SlotFull) and slot.remaining:
        return ngettext(
            "This time has %(left)d place; your team needs %(seats)d",
            "This time has %(left)d places; your team needs %(seats)d",
            slot.remaining,
        ) % {"left": slot.remaining, "seats": seats}
    if isinstance(exc, registration_errors.SlotFull):
        return gettext("This slot just filled — here are the nearest open ones")
    return gettext("This time can no longer be booked — here are the nearest open ones")


def _slot_taken(request, tournament, form, slot, exc):
    """The chosen slot filled (or closed) between page load and submit: say what happened and
    offer the nearest times that fit."""
    seats = len(form.member_entries()) if tournament.is_team_event else 1
    query = request.GET.copy()
    query["slot"] = str(slot.pk)
    waitlist_url = reverse("registrations:waitlist_join", args=[tournament.slug])
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
            "heading": _refusal_heading(slot, max(seats, 1), exc),
            "message": exc.public_message(),
            "nearest": nearest,
            "pow_challenge": form.cleaned_data.get("pow_challenge", ""),
            "action": request.get_full_path(),
            "waitlist_url": f"{waitlist_url}?{query.urlencode()}" if slot.is_full else "",
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


def _change_refusal(registration):
    return entrant_change_refusal(
        registration,
        tournament=registration.tournament,
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
            "tournament": registration.tournament,
            "link": request.build_absolute_uri(
                reverse("registrations:detail", args=[registration.reference])
            ),
            "can_cancel": _cancel_refusal(registration) is None,
            "can_change": _change_refusal(registration) is None,
            "can_confirm": registration.status == Registration.Status.RESERVED,
            "is_offer": registration.status == Registration.Status.RESERVED
            and selectors.registration_is_waitlist_offer(registration_id=registration.pk),
            "check_in_qr": door_codes.qr_svg(
                request.build_absolute_uri(door_codes.check_in_path(registration.pk))
            )
            if registration.status in Registration.ACTIVE_STATUSES
            else "",
        },
    )


def _entrant_who(registration):
    """The entry as public pages name it (a team's name, a person's display name)."""
    return selectors.public_entrant_name(
        registration, full=registration.tournament.public_full_names
    )


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key="ip", rate=_reference_rate, method="POST", group="reference-change")
def change_page(request, reference):
    """The entrant picks another time: the times this entry can take are offered, the others
    shown with the reason; the engine's move decides under lock and e-mails old and new."""
    registration = selectors.registration_get_by_reference(reference=reference)
    tournament_zone_activate(registration.tournament)  # its times as the venue reads them
    detail = redirect("registrations:detail", reference=registration.reference)
    refusal = _change_refusal(registration)
    if refusal:  # shown at once; the engine checks again under lock
        messages.error(request, refusal.public_message())
        return detail
    form = ChangeTimeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.registration_move(
                registration=registration,
                to_slot_id=form.cleaned_data["slot"],
                actor=ACTOR,
                by_entrant=True,
            )
        except registration_errors.RegistrationError as exc:
            metrics.refusal_counted(exc)
            form.add_error("slot", exc.public_message(who=_entrant_who(registration)))
            status = 409
        else:
            slot = tournament_selectors.slot_get_for_tournament(
                tournament=registration.tournament, pk=moved.slot_id
            )
            messages.success(
                request,
                gettext("Your time is now %(when)s in %(room)s.")
                % {"when": local_when(slot.starts_at, slot.ends_at), "room": slot.location.name}
                + (
                    " " + gettext("We sent the new time by e-mail.")
                    if registration.contact_email
                    else ""
                ),
            )
            return detail
    elif form.is_bound:
        status = 400
    who = _entrant_who(registration)
    people = selectors.registration_people(registration=registration)
    offers, _ = selectors.slot_offers(
        tournament=registration.tournament,
        slots=tournament_selectors.slot_list_bookable(tournament=registration.tournament, seats=0),
        who=who,
        person_ids=people,
        team_id=registration.team_id,
        seats=registration.seats,
        moving=registration,
    )
    only_open = request.GET.get("open") == "1"
    shown = [o for o in offers if o.available or not only_open]
    return render(
        request,
        "registrations/registration_change.html",
        {
            "registration": registration,
            "tournament": registration.tournament,
            "form": form,
            "slot_groups": _offer_groups(shown),
            "only_open": only_open,
            "hidden_count": len(offers) - len(shown),
            "next_open": next((o for o in offers if o.available), None),
            "selected_slot": str(form["slot"].value() or ""),
        },
        status=status,
    )


def _lost_link_rate(group, request):
    return settings.LINEUP_RATE_LOST_LINK


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key="ip", rate=_lost_link_rate, method="POST", group="lost-link")
def lost_link_page(request):
    """'I lost my link': the private links of a contact's registrations go to the e-mail
    address on file. The answer is the same whether or not anything matched."""
    form = LostLinkForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        contact = form.cleaned_data["contact"]
        # Per contact too, so nobody floods one inbox from many addresses.
        if is_ratelimited(
            request,
            group="lost-link-contact",
            key=lambda group, request: (
                fold(contact).replace(" ", "") if form.is_email else phone_key(contact)
            ),
            rate=settings.LINEUP_RATE_LOST_LINK_CONTACT,
            method=ALL,
            increment=True,
        ):
            raise Ratelimited()
        services.registration_links_send(
            email=contact if form.is_email else "",
            phone="" if form.is_email else contact,
            actor=ACTOR,
            language=get_language(),  # the page's: the person reads the answer now
        )
        return redirect(reverse("registrations:lost_link") + "?sent=1")
    return render(
        request,
        "registrations/registration_lost_link.html",
        {"form": form, "sent": request.GET.get("sent") == "1" and not form.is_bound},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key="ip", rate=_reference_rate, method="POST", group="reference-change")
def cancel_page(request, reference):
    registration = selectors.registration_get_by_reference(reference=reference)
    tournament_zone_activate(registration.tournament)  # its times as the venue reads them
    detail = redirect("registrations:detail", reference=registration.reference)
    refusal = _cancel_refusal(registration)
    if refusal:  # shown at once; the engine checks again under lock
        messages.error(request, refusal.public_message())
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
            messages.error(request, exc.public_message())
        else:
            messages.success(
                request, gettext("The registration is cancelled and the place is free.")
            )
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
        messages.error(request, exc.public_message())
    else:
        messages.success(request, gettext("Your place is confirmed."))  # an offer claimed, too
    return redirect("registrations:detail", reference=registration.reference)


@require_http_methods(["GET", "HEAD"])
def door_code_page(request, code):
    """A scanned check-in code: on to the door's page of that entry, where staff log in. Nothing
    is read here, so an address tried at random learns nothing either."""
    registration_id = door_codes.registration_id_of(code)
    if registration_id is None:
        raise Http404
    return redirect("admin:registrations_check_in_entry", registration_id)
