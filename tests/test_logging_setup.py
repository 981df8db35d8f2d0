"""The rotating log file under paths.log_dir()."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from adalora_studio.app.logging_setup import current_log_file, log_file, setup_logging
from adalora_studio.core import paths


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_setup_logging_writes_under_the_log_folder_once() -> None:
    path = setup_logging("gui")
    assert path == paths.log_dir() / "gui.log" == current_log_file()
    assert setup_logging("gui") == path  # idempotent: still one handler
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_adalora_studio_log_file", None)]
    assert len(ours) == 1
    logging.getLogger("adalora_studio.test").warning("hello from the test")
    ours[0].flush()
    text = path.read_text(encoding="utf-8")
    assert "started: Python" in text and "WARNING" in text and "hello from the test" in text


def test_log_file_rotates_and_keeps_a_bounded_number_of_backups() -> None:
    path = setup_logging("rot", max_bytes=2_000, backups=2)
    logger = logging.getLogger("adalora_studio.rotation")
    for i in range(200):
        logger.info("line %03d %s", i, "x" * 60)
    files = sorted(p.name for p in path.parent.glob("rot.log*"))
    assert files == ["rot.log", "rot.log.1", "rot.log.2"]
    assert all(p.stat().st_size <= 2_000 for p in path.parent.glob("rot.log*"))
    assert "line 199" in path.read_text(encoding="utf-8")


def test_log_name_must_be_a_plain_file_name() -> None:
    with pytest.raises(ValueError, match="becomes a file name"):
        log_file("../escape")
