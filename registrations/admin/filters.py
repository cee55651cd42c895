"""Registration list filters that the admin's own list filters cannot express (django-filter)."""

import django_filters
from django import forms

from common.admin.base import FilterSetListFilter
from registrations.models import Registration


class RegistrationDayFilterSet(django_filters.FilterSet):
    day = django_filters.DateFilter(
        field_name="slot__starts_at",
        lookup_expr="date",
        label="Slot on",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Registration
        fields = []


class RegistrationDayFilter(FilterSetListFilter):
    title = "day"
    filterset_class = RegistrationDayFilterSet
