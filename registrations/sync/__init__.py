"""Sync to other systems: every registration change of a tournament with webhook endpoints
writes an outbox row per endpoint in its own transaction (`outbox.py`); the worker delivers
them, signed per Standard Webhooks, in order per registration, with retries (`delivery.py`,
over `http.py`); `endpoints.py` saves the endpoints and keeps `Tournament.has_webhooks`."""
