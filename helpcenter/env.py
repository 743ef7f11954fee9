"""Settings read from the environment: by settings.py, and by gunicorn.conf.py, which must not load the Django
settings (they want a SECRET_KEY and a database before gunicorn has even bound its port)."""

import os


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]
