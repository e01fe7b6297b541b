import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.config.settings")
application = get_asgi_application()

from yiwang.core.memory import freeze_startup_objects  # noqa: E402 — after Django's setup

freeze_startup_objects()
