"""The public waitlist: join a full slot's list (or the "any time" list), and the private page
where the entrant sees their place in line, claims an offer and leaves the list. Thin: form →
service (registrations/services/waitlist.py) → redirect."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from registrations import errors as registration_errors
from registrations import selectors, services
from registrations.forms import ConfirmActionForm, WaitlistForm, new_idempotency_key
from registrations.views import (
    ACTOR,
    _chosen_entrant,
    _public_who,
    _reference_rate,
    _signup_rate,
)
from tournaments import selectors as tournament_selectors


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key="ip", rate=_signup_rate, method="POST", group="signup")
def waitlist_join_page(request, slug):
    tournament = tournament_selectors.tournament_get_public(slug=slug)
    participant, team = _chosen_entrant(request, tournament)
    slot = None
    if request.GET.get("slot"):
        slot = tournament_selectors.slot_get_for_tournament(
            tournament=tournament, pk=request.GET["slot"]
        )
        if slot is None:
            raise Http404("No such time.")
    if participant is None and team is None and not tournament.allows_typed_names:
        messages.info(request, gettext("First find yourself on the list."))
        search = reverse("participants:search", args=[tournament.slug])
        return redirect(f"{search}?slot={slot.pk}" if slot else search)
    if not tournament.registration_is_open():
        return render(
            request,
            "registrations/registration_closed.html",
            {"tournament": tournament, "opens_later": False},
            status=200 if request.method != "POST" else 409,
        )
    form_kwargs = {"tournament": tournament, "participant": participant, "team": team}
    if request.method == "POST":
        form = WaitlistForm(request.POST, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                entry = services.waitlist_join(
                    tournament=tournament,
                    actor=ACTOR,
                    slot_id=slot.pk if slot else None,
                    participant=form.participant,
                    team=form.team,
                    members=form.member_entries() if tournament.is_team_event else (),
                    entrant_name=data.get("entrant_name", ""),
                    contact_name=data["contact_name"],
                    contact_email=data["contact_email"],
                    contact_phone=data["contact_phone"],
                    idempotency_key=data["idempotency_key"],
                    language=get_language(),  # the page's: the offers' e-mails follow it
                )
            except registration_errors.RegistrationError as exc:
                form.add_error(None, exc.public_message(who=_public_who(tournament, form)))
            else:
                if entry.tournament_id != tournament.pk:
                    raise Http404("No such waitlist entry.")
                return redirect("registrations:waitlist", reference=entry.reference)
    else:
        form = WaitlistForm(initial={"idempotency_key": new_idempotency_key()}, **form_kwargs)
    sign_up = reverse("registrations:create", args=[tournament.slug])
    query = request.GET.copy()
    return render(
        request,
        "registrations/waitlist_form.html",
        {
            "tournament": tournament,
            "slot": slot,
            "participant": participant,
            "participant_name": participant.public_name(full=tournament.public_full_names)
            if participant
            else "",
            "team": team,
            "form": form,
            "sign_up_url": f"{sign_up}?{query.urlencode()}",
        },
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "HEAD"])
@ratelimit(key="ip", rate=_reference_rate, group="reference")
def waitlist_page(request, reference):
    entry = selectors.waitlist_entry_get_by_reference(reference=reference)
    return render(
        request,
        "registrations/waitlist_detail.html",
        {
            "entry": entry,
            "link": request.build_absolute_uri(
                reverse("registrations:waitlist", args=[entry.reference])
            ),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key="ip", rate=_reference_rate, method="POST", group="reference-change")
def waitlist_leave_page(request, reference):
    entry = selectors.waitlist_entry_get_by_reference(reference=reference)
    detail = redirect("registrations:waitlist", reference=entry.reference)
    if not entry.on_list:
        messages.error(request, gettext("This entry is no longer on the waitlist."))
        return detail
    form = ConfirmActionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.waitlist_leave(entry=entry, actor=ACTOR, reason=form.cleaned_data["reason"])
        except registration_errors.RegistrationError as exc:
            messages.error(request, exc.public_message())
        else:
            messages.success(request, gettext("You have left the waitlist."))
        return detail
    return render(
        request,
        "registrations/waitlist_leave.html",
        {"entry": entry, "form": form},
        status=400 if form.is_bound else 200,
    )
