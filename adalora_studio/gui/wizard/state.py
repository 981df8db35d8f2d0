"""The one state object every wizard page is bound to: the RunConfig being built plus what was discovered.

Pages never talk to each other; they read and write :class:`WizardState` and react to its signals. Work that
may import torch/transformers/datasets (module discovery, data preview, dataset inspection, device probing) is
sent to the long-lived :class:`~adalora_studio.gui.worker.TorchWorker` through :meth:`WizardState.submit`,
whose results arrive on the GUI thread; a result that was overtaken by a newer request is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal
from shiboken6 import isValid

from ...core.config import RunConfig, with_section


class JobLike(Protocol):
    """What ``TorchWorker.submit`` returns: a QObject with ``succeeded(object)`` and ``failed(str, str)``."""

    succeeded: Any
    failed: Any


class Submitter(Protocol):
    """Anything with ``submit(fn, *args, **kwargs) -> Job`` (the TorchWorker)."""

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> JobLike: ...


class WizardState(QObject):
    """The RunConfig under construction and the facts the pages discovered about model and data."""

    config_changed = Signal(object)
    """The RunConfig changed (any section)."""
    model_info_changed = Signal(object)
    """A ``core.model.ModelInfo`` or None (unknown / discovering / failed)."""
    data_summary_changed = Signal(object)
    """A ``core.data.DataSummary`` or None."""
    devices_changed = Signal(object)
    """A dict from :func:`adalora_studio.gui.wizard.training.probe_devices`."""
    windows_changed = Signal(object)
    """Question answering: the training window count arrived or is being counted again (see ``qa_windows``)."""

    def __init__(self, worker: Submitter | None, config: RunConfig | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        self._config = config or RunConfig()
        self.model_info: Any = None
        self.data_summary: Any = None
        self.data_preview: Any = None
        self.devices: dict[str, Any] | None = None
        self.qa_windows: Any = None
        """A ``qa_windows.WindowCount`` (question answering: the windows the engine trains on), or None."""
        self._tickets: dict[str, int] = {}
        self._jobs: dict[str, Any] = {}

    # ------------------------------------------------------------------ config
    @property
    def config(self) -> RunConfig:
        """The RunConfig as the pages currently describe it."""
        return self._config

    def set_config(self, cfg: RunConfig) -> None:
        """Replace the whole config (loading a file, a preset, the last wizard values)."""
        if cfg != self._config:
            self._config = cfg
            self.config_changed.emit(cfg)

    def update(self, section: str, **changes: Any) -> None:
        """Change fields of one section (``""`` for top-level fields such as ``task`` or ``output_dir``)."""
        cfg = self._config.replace(**changes) if not section else with_section(self._config, section, **changes)
        self.set_config(cfg)

    # ------------------------------------------------------------------ discovered facts
    def set_model_info(self, info: Any) -> None:
        """Record the ModelInfo of the chosen model (None while unknown)."""
        self.model_info = info
        self.model_info_changed.emit(info)

    def set_data_summary(self, summary: Any) -> None:
        """Record the DataSummary of the chosen data and mapping (None while unknown)."""
        self.data_summary = summary
        self.data_summary_changed.emit(summary)

    def set_qa_windows(self, count: Any) -> None:
        """Record the question-answering window count (or that it is being counted: see ``qa_windows``)."""
        self.qa_windows = count
        self.windows_changed.emit(count)

    def set_devices(self, devices: dict[str, Any]) -> None:
        """Record which accelerators the worker found."""
        self.devices = devices
        self.devices_changed.emit(devices)

    # ------------------------------------------------------------------ background jobs
    def submit(
        self,
        channel: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        on_ok: Callable[[Any], None],
        on_error: Callable[[str, str], None],
    ) -> None:
        """Run ``fn(*args)`` on the worker; deliver only the newest result of each ``channel``.

        Without a worker (a bare widget in a test or the screenshot script before the worker exists) the call
        reports an error instead of running torch work on the GUI thread.
        """
        ticket = self._tickets.get(channel, 0) + 1
        self._tickets[channel] = ticket
        if self.worker is None:
            on_error("No background worker is running, so this cannot be checked.", "")
            return

        def current() -> bool:
            # Drop results that were overtaken, or that arrive after the wizard was closed and deleted.
            return isValid(self) and self._tickets.get(channel) == ticket

        def ok(result: Any) -> None:
            if current():
                self._jobs.pop(channel, None)
                on_ok(result)

        def bad(message: str, detail: str) -> None:
            if current():
                self._jobs.pop(channel, None)
                on_error(message, detail)

        job = self.worker.submit(fn, *args)
        job.succeeded.connect(ok)
        job.failed.connect(bad)
        self._jobs[channel] = job  # keep the Job (and its connections) alive until it reports

    def busy(self, channel: str) -> bool:
        """Whether a job of ``channel`` is still running."""
        return channel in self._jobs
