"""Helpers for driving the admin with Django's test client, as an organizer would."""

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse


def changelist_url(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def add_url(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def post_action(client, model, action, objects, *, confirm=False, follow=True, **data):
    """Choose `action` for `objects` on the changelist; with `confirm`, submit its form."""
    payload = {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects], **data}
    if confirm:
        payload["confirm"] = "yes"
    return client.post(changelist_url(model), payload, follow=follow)


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]
