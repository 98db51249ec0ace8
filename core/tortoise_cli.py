"""Config for Tortoise's own CLI (`tortoise makemigrations`); see `make migrations`."""

from core.db import tortoise_config

TORTOISE_ORM = tortoise_config("sqlite://:memory:")
