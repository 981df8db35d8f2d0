#!/usr/bin/env bash
# The GPU measurements of issue 14, for a session that has a CUDA GPU. Run from the repository root:
#   bash benchmarks/gpu_check.sh [PYTHON]        (default .venv/bin/python; ~8 minutes on one H200)
# Prints: the fast allocator's equality test on CUDA, engine vs hand-written loop and AdaLoRA vs LoRA r=8 (MiniLM
# and SmolLM2), the fast path's speed-up, and s/step + peak VRAM in fp32 / bf16 / fp16 / checkpointing / 4-bit.
# Copy the printed figures into benchmarks/README.md ("GPU figures").
set -uo pipefail
PY="${1:-.venv/bin/python}"
export OMP_NUM_THREADS=4 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 QT_QPA_PLATFORM=offscreen
step() { echo; echo "=== $* ==="; }

step "GPU"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"

step "fast allocator == peft's allocator on CUDA (rank_pattern every step, weights within 1e-6)"
ADALORA_TEST_DEVICE=cuda timeout 300 "$PY" -m pytest -q -x -p no:cacheprovider tests/core/test_fast_allocator.py

step "MiniLM classification, engine / reference / fast / LoRA r=8, interleaved"
timeout 600 "$PY" benchmarks/engine_throughput.py --device cuda --warmup 10 --rounds 20 --block 5 2>/dev/null

step "SmolLM2-135M causal-lm, engine / reference / fast / LoRA r=8, interleaved, with peak memory"
timeout 900 "$PY" benchmarks/engine_throughput.py --task causal-lm --device cuda --warmup 10 --rounds 20 \
    --block 5 --memory 2>/dev/null

step "precision paths: s/step and peak VRAM (preflight dry runs)"
timeout 600 "$PY" benchmarks/gpu_precision.py --steps 20 2>/dev/null

step "AdaLoRA per-part cost on the GPU, peft vs fast path (SmolLM2 shapes)"
timeout 300 "$PY" benchmarks/adalora_overhead.py --device cuda --task causal-lm --repeat 50 2>/dev/null
