"""Settings and deployment: SQLite in WAL mode, and a clean `check --deploy` under production settings."""

import os
import secrets
import subprocess
import sys

from django.conf import settings

BASE = str(settings.BASE_DIR)


def manage(*args, env=None, **kwargs):
    # A fresh process with the environment a server would have (the browser tests' async opt-out removed).
    base_env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE,
        env={**base_env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def test_sqlite_file_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    assert manage("migrate", "-v0", env=env).returncode == 0
    result = manage(
        "shell",
        "-v0",
        "-c",
        "from django.db import connection as c; cur = c.cursor(); "
        "print(cur.execute('PRAGMA journal_mode').fetchone()[0], cur.execute('PRAGMA busy_timeout').fetchone()[0])",
        env=env,
    )
    assert result.stdout.split() == ["wal", "20000"], result.stderr


def test_check_deploy_is_clean_under_production_settings():
    env = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "help.example.com",
    }
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {"DEBUG": "false", "SECRET_KEY": "", "ALLOWED_HOSTS": "help.example.com"}
    result = manage("check", env=env)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_no_migration_is_missing():
    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout


def test_manage_commands_do_not_print_the_sign_in_throttles_banner():
    result = manage("check")
    assert result.returncode == 0 and "System check identified no issues" in result.stdout
    assert "AXES" not in result.stdout + result.stderr  # its "AXES: BEGIN version ..." line, once a command


def test_behind_the_tls_proxy_one_proxy_is_trusted_with_x_forwarded_for_and_none_without():
    show = ["shell", "-v0", "-c", "from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)"]
    assert manage(*show, env={"BEHIND_TLS_PROXY": "true"}).stdout.split() == ["1"]
    assert manage(*show, env={"BEHIND_TLS_PROXY": "false"}).stdout.split() == ["0"]
    assert manage(*show, env={"BEHIND_TLS_PROXY": "true", "TRUSTED_PROXY_COUNT": "2"}).stdout.split() == ["2"]
