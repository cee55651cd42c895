"""Filters for the public tournament list (django-filter)."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tournaments.models import Tournament


class TournamentFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(
        choices=Tournament.Category.choices, empty_label=_("Any category"), label=_("Category")
    )
    day = django_filters.DateFilter(
        method="filter_day",
        label=_("Day"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date such as 2026-05-14.")},
    )
    open_now = django_filters.BooleanFilter(
        method="filter_open_now", label=_("Open for sign-up now"), widget=forms.CheckboxInput
    )

    class Meta:
        model = Tournament
        fields = ["category"]

    def filter_day(self, queryset, name, value):
        """Tournaments running that day; a one-day event may leave `ends_on` empty."""
        return queryset.filter(starts_on__lte=value).filter(
            Q(ends_on__gte=value) | Q(ends_on__isnull=True, starts_on=value)
        )

    def filter_open_now(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.open_for_sign_up(timezone.now())
