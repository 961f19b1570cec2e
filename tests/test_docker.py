"""Docker cannot run on the development machine; check what can be checked without it."""

import re

import yaml
from django.conf import settings

COMPOSE = yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text())
README = (settings.BASE_DIR / "README.md").read_text()


def test_compose_has_a_database_and_a_web_service():
    assert set(COMPOSE["services"]) == {"db", "web"}


def test_database_is_official_postgres_with_a_named_volume_and_healthcheck():
    db = COMPOSE["services"]["db"]
    assert db["image"].startswith("postgres:")
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    assert "pgdata" in COMPOSE["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_web_is_built_here_and_waits_for_a_healthy_database():
    web = COMPOSE["services"]["web"]
    assert web["build"] == "."
    assert web["depends_on"]["db"]["condition"] == "service_healthy"
    assert "@db:5432/" in web["environment"]["DATABASE_URL"]


def test_web_runs_migrations_then_gunicorn_as_a_non_root_user():
    dockerfile = (settings.BASE_DIR / "Dockerfile").read_text()
    assert re.search(r"migrate --noinput && exec gunicorn tracker.wsgi", dockerfile)
    assert "USER tracker" in dockerfile
    assert "collectstatic --noinput" in dockerfile


def test_every_variable_compose_sets_is_documented_in_the_readme():
    for name in COMPOSE["services"]["web"]["environment"]:
        assert f"`{name}`" in README, name
