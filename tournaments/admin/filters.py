"""Sidebar filters of the schedule admin."""

import django_filters
from django import forms
from django.contrib import admin
from django.db.models import F
from django.utils import timezone

from common.admin.base import FilterSetListFilter


class WhenFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [
            ("upcoming", "Upcoming"),
            ("running", "Running today"),
            ("past", "Past"),
            ("undated", "No dates yet"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        match self.value():
            case "upcoming":
                return queryset.filter(starts_on__gt=today)
            case "running":
                return queryset.filter(starts_on__lte=today, ends_on__gte=today)
            case "past":
                return queryset.filter(ends_on__lt=today)
            case "undated":
                return queryset.filter(starts_on__isnull=True)
        return queryset


class DayFilterSet(django_filters.FilterSet):
    day = django_filters.DateFilter(
        field_name="starts_at",
        lookup_expr="date",
        label="Day",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class DayFilter(FilterSetListFilter):
    title = "day"
    filterset_class = DayFilterSet


class FullnessFilter(admin.SimpleListFilter):
    title = "places"
    parameter_name = "places"

    def lookups(self, request, model_admin):
        return [("full", "Full"), ("free", "Has room"), ("empty", "Empty")]

    def queryset(self, request, queryset):
        match self.value():
            case "full":
                return queryset.filter(reserved_count__gte=F("capacity"))
            case "free":
                return queryset.filter(reserved_count__lt=F("capacity"))
            case "empty":
                return queryset.filter(reserved_count=0)
        return queryset
