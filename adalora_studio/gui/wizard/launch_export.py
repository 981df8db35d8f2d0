"""The review page's "Export launch files…": the cluster hand-off, as ``adalora-studio export-launch`` writes it.

The chosen folder gets ``run.json`` (relative paths made absolute), ``accelerate_config.yaml``, ``launch.sh``
(this machine: ``accelerate launch`` on GPUs, ``torchrun`` with gloo on CPU) and ``slurm.sbatch`` (one task per
node). The box then says how to start them and how to watch the run from the app: the run folder appears under
the config's runs folder, which Open run follows live while the ranks write it.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QPushButton, QSpinBox, QWidget

from ...core.config import validate_config
from ...core.errors import StudioError
from ...core.export import write_launch_files
from ...core.export.launch import runs_base
from ..labels import for_gui
from .page import InlineMessage
from .state import WizardState


def written_text(files: Any, nodes: int, base: Path) -> str:
    """What was written, how to start it, and how to watch it in the app (HTML)."""
    folder = files.run_json.parent
    where = (f"{files.num_processes} CPU process{'' if files.num_processes == 1 else 'es'} (torchrun, gloo)"
             if files.cpu else f"{files.num_processes} GPU process{'' if files.num_processes == 1 else 'es'} "
                               "(accelerate launch)")
    names = ", ".join(p.name for p in (files.run_json, files.accelerate_config, files.launch_script, files.sbatch))
    return (f"Wrote {html.escape(names)} in <code>{html.escape(str(folder))}</code>.<br>"
            f"<b>This machine:</b> <code>bash {html.escape(str(files.launch_script))}</code> — {where}.<br>"
            f"<b>SLURM:</b> <code>sbatch {html.escape(str(files.sbatch))}</code> — {nodes} node"
            f"{'' if nodes == 1 else 's'} × {files.num_processes} GPU{'' if files.num_processes == 1 else 's'} "
            "(adjust partition and time in the file).<br>"
            f"<b>Watch it here:</b> rank 0 creates the run folder under <code>{html.escape(str(base))}</code>. "
            "Put that folder on storage this computer can see (a shared or mounted drive), then use "
            "<b>File ▸ Open run…</b> on the run folder once it appears: the dashboard follows it live, reading "
            "only new events, until the run ends. Stop it with Ctrl+C or <code>scancel --signal=INT</code> (every "
            "rank checkpoints); <code>adalora-studio train --resume RUN_DIR</code> continues it.")


class LaunchExport(QGroupBox):
    """Processes per machine, machines, Export launch files…, and what was written."""

    def __init__(self, state: WizardState, parent: QWidget | None = None) -> None:
        super().__init__("Run on several GPUs or a cluster", parent)
        self.state = state
        self.written: Any = None
        """The ``LaunchFiles`` last written, or None."""
        self._touched = False
        form = QFormLayout(self)
        self.processes = QSpinBox(self)
        self.processes.setRange(1, 1024)
        self.processes.setToolTip("Processes per machine: one per GPU (on CPU, torchrun processes)")
        self.nodes = QSpinBox(self)
        self.nodes.setRange(1, 4096)
        self.nodes.setToolTip("Machines (SLURM nodes) for slurm.sbatch; launch.sh runs on this machine")
        row = QHBoxLayout()
        self.export_button = QPushButton("Export launch files…", self)
        self.export_button.setToolTip("Write run.json, accelerate_config.yaml, launch.sh and slurm.sbatch into a "
                                      "folder (as adalora-studio export-launch does)")
        row.addWidget(self.export_button)
        row.addStretch(1)
        form.addRow("Processes per machine:", self.processes)
        form.addRow("Machines (nodes):", self.nodes)
        form.addRow(row)
        self.message = InlineMessage(self)
        self.message.setObjectName("launchExportMessage")
        form.addRow(self.message)
        self.processes.valueChanged.connect(lambda _v: setattr(self, "_touched", True))
        self.export_button.clicked.connect(self.export_dialog)
        state.devices_changed.connect(lambda _d: self.follow_config())
        state.config_changed.connect(lambda _c: self.follow_config())
        self.follow_config()

    def follow_config(self) -> None:
        """Until the user changes it, processes per machine is the config's processes or the GPUs found."""
        if self._touched:
            return
        devices = self.state.devices or {}
        gpus = int(devices.get("cuda_count", 0)) if devices.get("cuda") else 0
        cpu = self.state.config.training.device == "cpu"
        wanted = max(self.state.config.training.processes, 1 if cpu else gpus, 1)
        self.processes.blockSignals(True)
        self.processes.setValue(wanted)
        self.processes.blockSignals(False)

    def device_note(self) -> str:
        """Why the files start GPU processes on a machine that has none ('' when that is not the case)."""
        devices = self.state.devices or {}
        if self.state.config.training.device == "auto" and devices and not devices.get("cuda"):
            return ("Device is auto, so the files start GPU processes (accelerate launch); this computer has no CUDA "
                    "GPU. For CPU processes (torchrun with gloo) set Device to cpu on the Training page.")
        return ""

    def export_dialog(self) -> None:
        """Ask for a folder, then :meth:`export_to` it."""
        start = str(self.written.run_json.parent) if self.written else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Folder for the launch files", start)
        if folder:
            self.export_to(folder)

    def export_to(self, folder: str | Path) -> None:
        """Write the launch files of the wizard's config into ``folder`` and say what was written."""
        cfg = self.state.config
        problems = validate_config(cfg)
        if problems:
            self.message.show_message(html.escape(f"Fix the config first: {for_gui(str(problems[0]))}"))
            return
        try:
            files = write_launch_files(cfg, folder, num_processes=self.processes.value(), nodes=self.nodes.value())
        except (OSError, StudioError) as exc:
            self.message.show_message(html.escape(f"Could not write the launch files in {folder}: {exc}"))
            return
        self.written = files
        note = self.device_note()
        text = written_text(files, self.nodes.value(), runs_base(cfg).resolve())
        self.message.show_message(text + (f"<br><b>Note:</b> {html.escape(note)}" if note else ""),
                                  "warning" if note else "info")
