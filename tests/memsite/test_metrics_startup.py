"""The start-up warning when several processes count metrics without PROMETHEUS_MULTIPROC_DIR."""

import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from celery.signals import celeryd_after_setup
from django.conf import settings

import memsite.celery  # noqa: F401  (connects the worker signal)

GUNICORN_CONF = Path(settings.BASE_DIR) / "gunicorn.conf.py"


def _warnings(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno == logging.WARNING]


def _start_gunicorn(workers: int) -> None:
    """What gunicorn does with ./gunicorn.conf.py when its master starts."""
    hooks = runpy.run_path(str(GUNICORN_CONF))
    hooks["on_starting"](SimpleNamespace(cfg=SimpleNamespace(workers=workers), log=logging.getLogger("gunicorn.error")))


def test_gunicorn_with_several_workers_and_no_folder_warns_once(monkeypatch, caplog):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)

    _start_gunicorn(workers=2)

    [warning] = _warnings(caplog)
    assert "2 gunicorn workers" in warning.getMessage()
    assert "only the counts of the worker answering" in warning.getMessage()
    assert "PROMETHEUS_MULTIPROC_DIR" in warning.getMessage()


@pytest.mark.parametrize(("workers", "folder"), [(1, None), (2, "/tmp/prometheus"), (4, "/tmp/prometheus")])
def test_gunicorn_is_quiet_with_one_worker_or_the_folder_set(monkeypatch, caplog, workers, folder):
    if folder:
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", folder)
    else:
        monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)

    _start_gunicorn(workers=workers)

    assert _warnings(caplog) == []


def test_a_celery_worker_without_the_folder_warns_once(monkeypatch, caplog):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)

    celeryd_after_setup.send(sender="celery@host", instance=None, conf=None)

    [warning] = _warnings(caplog)
    assert warning.name == "memsite.celery"
    assert "Celery worker celery@host" in warning.getMessage()
    assert "PROMETHEUS_MULTIPROC_DIR" in warning.getMessage()


def test_a_celery_worker_with_the_folder_is_quiet(monkeypatch, caplog):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/tmp/prometheus")

    celeryd_after_setup.send(sender="celery@host", instance=None, conf=None)

    assert _warnings(caplog) == []


def test_django_start_up_itself_never_warns(caplog, monkeypatch):
    """Tests and the single-process dev server load the apps (metrics.install) but no hook above."""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    from memsite import metrics

    metrics.install()

    assert _warnings(caplog) == []
