import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()

# Refuse to start a server without a secret key (DEBUG off) rather than fail on its first
# request: reading an empty one raises ImproperlyConfigured.
settings.SECRET_KEY  # noqa: B018
