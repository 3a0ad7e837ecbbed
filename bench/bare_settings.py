"""The bare Django baseline for the ``http`` benchmark: no apps, no middleware, no database,
one view (bench.bare_urls) that returns the bytes kehu served. Not used by kehu itself."""

SECRET_KEY = "bench-bare-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
ROOT_URLCONF = "bench.bare_urls"
WSGI_APPLICATION = "bench.bare_wsgi.application"
USE_I18N = False
USE_TZ = True
