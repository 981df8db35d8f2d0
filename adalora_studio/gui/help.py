"""Help ▸ User guide (F1): what AdaLoRA does, how the wizard and dashboard work, and the keyboard shortcuts."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

GUIDE_HTML = """
<h2>AdaLoRA Studio — user guide</h2>
<h3>What AdaLoRA does</h3>
<p>AdaLoRA adapts a model by adding to each chosen weight matrix a small update written as
P&middot;&Lambda;&middot;Q, an SVD-like product with <b>init_r</b> singular triplets. While training it scores every
triplet by how much the loss depends on it and prunes the least important ones, following a cubic schedule from
<b>init_r</b> per matrix down to an average of <b>target_r</b>. The budget is shared: a matrix that matters can keep
more rank than <b>target_r</b>, one that does not can drop to 0.</p>
<h3>A fine-tune in five steps (File &#9656; New fine-tune&hellip;)</h3>
<ol>
<li><b>Task &amp; model</b>: text classification or causal language modelling; the bundled MiniLM, a local
model folder, a GGUF file, or a hub id when online.</li>
<li><b>Dataset</b>: a CSV, TSV, JSON, JSONL or Parquet file, or a saved datasets folder (drop it on the page).
Check the preview and the column mapping; problems are shown next to the control they concern.</li>
<li><b>Budget</b>: the parameter budget (as ranks, a % of the model, or a count), which matrices to adapt, and the
schedule: <b>tinit</b> (warm-up before pruning), <b>tfinal</b> (final phase with a fixed budget) and
<b>&Delta;T</b> (prune every &Delta;T steps). The honest meter shows what memory holds (init_r) and what the saved
adapter keeps (target_r).</li>
<li><b>Training</b>: epochs or steps, batch size, accumulation, learning rate, device and output folder.</li>
<li><b>Review</b>: the config file as it will be saved. <i>Save config&hellip;</i> writes it;
<i>Copy CLI command</i> gives the same run headless (<code>adalora-studio train /path/run.json</code>); it saves
the config first when the wizard changed since the last save, so the command always runs what is shown.</li>
</ol>
<h3>The dashboard</h3>
<p>Loss (raw and smoothed) and evaluation curves, the learning rate, and the budget b(t) with the rank actually
held. The bars show every matrix's rank grouped by layer and coloured by type (hover for the importance of its
triplets; wheel to zoom, drag to pan along the layers); the heatmap shows rank by layer and matrix type, with the
ranks written in the cells once they are big enough. Drag the <i>Snapshot</i> slider to go back in time.
<b>Stop</b> saves a checkpoint; <b>Resume</b> continues exactly where the budget schedule was. When a run finishes,
its final metrics are shown and you can export a plain LoRA adapter, a merged model, the rank table or the
plots; every export asks where to save and ends with the path and a <i>Copy path</i> button. While a run trains you
can prepare the next one in the wizard: <i>Queue run</i> starts it when the current run ends, and the
<i>&#9654; Running</i> button in the status bar brings the live dashboard back.</p>
<h3>Keyboard</h3>
<table cellpadding="3">
<tr><td><b>Ctrl+N</b></td><td>New fine-tune</td></tr>
<tr><td><b>Ctrl+O</b></td><td>Open a run folder (replay, follow or resume it)</td></tr>
<tr><td><b>Ctrl+S</b></td><td>Save the config on screen (the wizard's, or the shown run's on its dashboard)</td></tr>
<tr><td><b>Ctrl+Q</b></td><td>Quit (asks first while a run is going)</td></tr>
<tr><td><b>F1</b></td><td>This guide</td></tr>
</table>
"""


class HelpDialog(QDialog):
    """A non-modal window with the user guide."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("User guide")
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(GUIDE_HTML)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(720, 640)


def show_help(parent: QWidget | None = None) -> HelpDialog:
    """Open the guide (non-modal) and return it."""
    dialog = HelpDialog(parent)
    dialog.show()
    return dialog
