"""SQLite set up for several processes at once: the demo's web processes and its worker."""

import contextlib
import json
import threading

import pytest
from django.conf import settings
from django.db import connections, transaction

from tests.test_security_headers import run_in_production


def test_a_sqlite_database_waits_for_writers_in_wal_mode(tmp_path):
    code = (
        "import django, json; django.setup(); from django.db import connection; "
        "cursor = connection.cursor(); "
        "print(json.dumps([cursor.execute(f'PRAGMA {name}').fetchone()[0] "
        "for name in ('busy_timeout', 'journal_mode')] + [connection.transaction_mode]))"
    )

    completed = run_in_production("-c", code, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == [20000, "wal", "IMMEDIATE"]


def test_postgresql_gets_none_of_sqlite_s_options():
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
    )

    completed = run_in_production("-c", code, DATABASE_URL="postgres://u@db.example.org/p")

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == {}


@pytest.fixture
def sqlite_file(tmp_path, django_db_blocker):
    """A SQLite database in a file with the site's options, as another connection alias."""
    alias = "sqlite_file"
    configured = connections.configure_settings(
        {
            "default": settings.DATABASES["default"],
            alias: {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(tmp_path / "db.sqlite3"),
                "OPTIONS": dict(settings.SQLITE_OPTIONS),
            },
        }
    )
    connections.settings[alias] = configured[alias]
    with django_db_blocker.unblock():
        with connections[alias].cursor() as cursor:
            cursor.execute("CREATE TABLE counter (value integer)")
            cursor.execute("INSERT INTO counter VALUES (0)")
        yield alias
        connections[alias].close()
    del connections.settings[alias]


def test_transactions_that_read_then_write_at_once_wait_for_each_other(sqlite_file):
    count = 6
    barrier = threading.Barrier(count)
    errors = []

    def add_one():
        try:
            barrier.wait()
            with transaction.atomic(using=sqlite_file), connections[sqlite_file].cursor() as cursor:
                cursor.execute("SELECT value FROM counter")
                [value] = cursor.fetchone()
                barrier_for_reads()
                cursor.execute("UPDATE counter SET value = %s", [value + 1])
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections[sqlite_file].close()

    def barrier_for_reads():
        # Without the write lock taken at the start, every thread has read before any writes.
        # (The others waiting for the lock instead break it, as they should.)
        with contextlib.suppress(threading.BrokenBarrierError):
            reads.wait(timeout=1)

    reads = threading.Barrier(count)
    threads = [threading.Thread(target=add_one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with connections[sqlite_file].cursor() as cursor:
        cursor.execute("SELECT value FROM counter")
        assert cursor.fetchone() == (count,)
