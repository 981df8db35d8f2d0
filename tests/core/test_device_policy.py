"""The one device and precision policy (core.training.device), used by the engine, the wizard and About."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from adalora_studio.core.config import TrainingConfig
from adalora_studio.core.errors import ConfigError
from adalora_studio.core.training import Devices, choose_hardware, probe_devices, resolve_hardware

ROOT = Path(__file__).resolve().parents[2]
GPU_BF16 = Devices(cuda=True, mps=False, cuda_name="Example", cuda_version="12.4", bf16=True, threads=8)
GPU_OLD = Devices(cuda=True, mps=False, cuda_name="Old", cuda_version="11.8", bf16=False, threads=8)
MAC = Devices(cuda=False, mps=True, threads=8)
CPU = Devices(cuda=False, mps=False, threads=2)


@pytest.mark.parametrize(("devices", "device", "precision"), [
    (GPU_BF16, "cuda", "bf16"), (GPU_OLD, "cuda", "fp32"), (MAC, "mps", "fp32"), (CPU, "cpu", "fp32")])
def test_auto_picks_cuda_then_mps_then_cpu_and_bf16_where_supported(devices: Devices, device: str,
                                                                    precision: str) -> None:
    hw = choose_hardware(TrainingConfig(), devices)
    assert (hw.device, hw.precision) == (device, precision)
    assert (devices.auto_device, devices.auto_precision) == (device, precision)  # what the wizard shows


@pytest.mark.parametrize(("devices", "device", "precision", "field"), [
    (CPU, "cuda", "auto", "training.device"), (CPU, "mps", "auto", "training.device"),
    (CPU, "cpu", "fp16", "training.precision"), (GPU_OLD, "cuda", "bf16", "training.precision")])
def test_impossible_choices_name_the_field(devices: Devices, device: str, precision: str, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        choose_hardware(TrainingConfig(device=device, precision=precision), devices)
    assert info.value.field == field


def test_descriptions_for_about() -> None:
    assert GPU_BF16.describe() == "CUDA GPU 0: Example (CUDA 12.4)"
    assert MAC.describe() == "Apple GPU (MPS)"
    assert CPU.describe() == "CPU (2 threads)"
    assert CPU.to_dict()["summary"] == "CPU (2 threads)" and CPU.to_dict()["auto_device"] == "cpu"


def test_engine_wizard_and_about_agree_on_this_machine() -> None:
    from adalora_studio.gui.about import device_summary
    from adalora_studio.gui.wizard.jobs import probe_devices as wizard_probe

    here = probe_devices()
    hw = resolve_hardware(TrainingConfig())
    wizard = wizard_probe()
    assert (wizard["auto_device"], wizard["auto_precision"]) == (hw.device, hw.precision)
    assert device_summary() == here.describe() == wizard["summary"]


def test_only_the_policy_module_asks_torch_which_devices_exist() -> None:
    """No second copy of the choice: availability checks outside device.py are only for saving RNG state."""
    probes = ("is_bf16_supported", "get_device_name")
    offenders = []
    for path in (ROOT / "adalora_studio").rglob("*.py"):
        if path.name == "device.py" and path.parent.name == "training":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute):
                continue
            mps = node.attr == "is_available" and isinstance(node.value, ast.Attribute) and node.value.attr == "mps"
            if node.attr in probes or mps:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
