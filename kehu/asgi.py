import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
application = get_asgi_application()

from kehu.core.runtime import settle  # noqa: E402 (needs the settings)

settle()
