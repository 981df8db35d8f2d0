"""A cheaper path through peft's AdaLoRA that keeps its maths: the same EMAs, masks and orthogonality term.

peft 0.21 walks every adapter tensor in Python, one small op at a time: ``update_ipt`` (3 EMAs x 3 tensors per
matrix, every optimizer step), ``mask_using_rank_pattern`` (a new mask tensor per matrix and a host-to-device copy,
every step of the final phase) and the orthogonality term in ``AdaLoraModel.forward`` (a matmul, an identity, a
norm per tensor, every forward). On a GPU those become thousands of kernel launches per step.

:class:`FastAllocator` does the same arithmetic with ``torch._foreach_*`` over the tensor lists, in the same
order of operations, so the EMA tensors are bit-identical; the triplet scores and the threshold are computed
exactly as peft does. :func:`batched_orth_regulariser` stacks same-shaped ``lora_A`` / ``lora_B`` matrices and
computes every ``||P^T P - I||_F`` of a group in one batched matmul and norm (the same terms; only the order of
the final sum differs, a float rounding of ~1e-7 relative).

:mod:`.fast_forward` folds the layers' scalar ``scaling / (ranknum + 1e-5)`` into the small ``lora_A * lora_E``
matrix, so each adapted layer's forward does LoRA's two matmuls and no extra passes over the activations.

peft's behaviour is the specification: ``tests/core/test_fast_allocator.py`` runs both side by side.
``budget.fast_allocator = false`` keeps peft's own code (nothing here is installed).
"""

from __future__ import annotations

import types
from collections import defaultdict
from typing import Any

from .ranks import ADAPTER_NAME, adalora_model

ATTR = "_studio_fast_allocator"
"""The attribute of the peft model that holds its installed :class:`FastAllocator`."""


def install_fast_path(peft_model: Any, adapter_name: str = ADAPTER_NAME) -> FastAllocator:
    """Attach a :class:`FastAllocator`, the batched orthogonality term and the fused layer forward of
    :mod:`.fast_forward` to a peft AdaLoRA model.

    :func:`.allocator_state.update_and_allocate` uses the allocator from then on; the model's forward adds the
    batched term instead of peft's loop, and each ``SVDLinear`` adds its product with the scale folded into
    ``lora_A * lora_E``. :func:`uninstall_fast_path` undoes all three.
    """
    from .fast_forward import install_fast_forward

    install_fast_forward(peft_model)
    fast = FastAllocator(peft_model, adapter_name)
    setattr(peft_model, ATTR, fast)
    inner = adalora_model(peft_model)
    params = [(n, p) for n, p in inner.model.named_parameters()
              if ("lora_A" in n or "lora_B" in n) and adapter_name in n]
    inner._studio_orth = (adapter_name, _orth_groups(params), len(params))
    inner.forward = types.MethodType(_forward_with_batched_orth, inner)  # a deep copy re-binds it to the copy
    return fast


def _forward_with_batched_orth(self: Any, *args: Any, **kwargs: Any) -> Any:
    """``AdaLoraModel.forward`` with the orthogonality term of :func:`batched_orth_regulariser`."""
    import torch

    outputs = self.model.forward(*args, **kwargs)
    loss = getattr(outputs, "loss", None)
    if loss is not None and isinstance(loss, torch.Tensor):
        adapter_name, groups, n_params = self._studio_orth
        weight = self.peft_config[adapter_name].orth_reg_weight
        if weight < 0:
            raise ValueError("orth_reg_weight should be greater than or equal to 0. ")
        outputs.loss += weight * batched_orth_regulariser(groups, n_params)
    return outputs


def uninstall_fast_path(peft_model: Any) -> None:
    """Go back to peft's own allocator and forwards (the EMA state stays where peft keeps it)."""
    from .fast_forward import uninstall_fast_forward

    uninstall_fast_forward(peft_model)
    if hasattr(peft_model, ATTR):
        delattr(peft_model, ATTR)
    inner = adalora_model(peft_model)
    if "forward" in vars(inner):
        del inner.forward
    vars(inner).pop("_studio_orth", None)


def fast_allocator_of(peft_model: Any) -> FastAllocator | None:
    """The installed :class:`FastAllocator` of a model, or None (peft's path)."""
    return getattr(peft_model, ATTR, None)


def _orth_groups(params: list[tuple[str, Any]]) -> list[tuple[bool, list[Any]]]:
    """``(is_A, [parameters])`` per (kind, shape): one batched matmul per group."""
    groups: dict[tuple[bool, tuple[int, ...]], list[Any]] = defaultdict(list)
    for name, p in params:
        groups[("lora_A" in name, tuple(p.shape))].append(p)
    return [(is_a, ps) for (is_a, _), ps in groups.items()]


def batched_orth_regulariser(groups: list[tuple[bool, list[Any]]], n_params: int) -> Any:
    """peft's ``sum ||A A^T - I||_F + ||B^T B - I||_F / n``, one stacked matmul and norm per same-shaped group."""
    import torch

    if n_params == 0:
        return 0
    total: Any = 0
    for is_a, ps in groups:
        stacked = torch.stack(ps)
        cov = stacked @ stacked.transpose(1, 2) if is_a else stacked.transpose(1, 2) @ stacked
        eye = torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
        total = total + torch.linalg.vector_norm(cov - eye, ord=2, dim=(1, 2)).sum()
    return total / n_params


class FastAllocator:
    """peft's ``RankAllocator`` arithmetic over tensor lists; the EMA dicts stay on peft's allocator object.

    The dicts ``ipt``, ``exp_avg_ipt`` and ``exp_avg_unc`` are read from and written back to
    ``base_model.rankallocator`` every step, so checkpoints, :func:`.ranks.triplet_scores` and a restore see
    exactly what they see on peft's path.
    """

    def __init__(self, peft_model: Any, adapter_name: str = ADAPTER_NAME) -> None:
        self.model = adalora_model(peft_model)
        self.adapter_name = adapter_name
        named = list(self.model.model.named_parameters())
        self.names = [n for n, _ in named if "lora_" in n and adapter_name in n]
        self.params = [p for n, p in named if "lora_" in n and adapter_name in n]
        self.e_names = [n for n in self.names if f"lora_E.{adapter_name}" in n]
        self.e_params = [p for n, p in zip(self.names, self.params, strict=True) if n in set(self.e_names)]
        self._mask_cache: tuple[dict[str, list[bool]], list[Any]] | None = None

    # -------------------------------------------------------------------------------- one step
    def update_and_allocate(self, step: int) -> None:
        """What ``AdaLoraModel.update_and_allocate(step)`` does, with batched tensor work."""
        config = self.model.peft_config[self.adapter_name]
        ra = self.model.rankallocator
        final = config.total_step - config.tfinal
        if step < final:
            self.update_ipt()
            budget, mask_ind = ra.budget_schedule(step)
            if mask_ind:
                pattern = self.mask_to_budget(budget)
                if pattern:
                    config.rank_pattern = pattern
        elif step == final:
            config.rank_pattern = self.mask_to_budget(ra.budget_schedule(step)[0])
            ra.reset_ipt()
        else:
            self.mask_using_rank_pattern(config.rank_pattern)

    def update_ipt(self) -> None:
        """Sensitivity |w*g| and its two EMAs for every adapter tensor, as ``RankAllocator.update_ipt``."""
        import torch

        ra = self.model.rankallocator
        b1, b2 = ra.beta1, ra.beta2
        for n, p in zip(self.names, self.params, strict=True):
            if n not in ra.ipt:
                ra.ipt[n] = torch.zeros_like(p)
                ra.exp_avg_ipt[n] = torch.zeros_like(p)
                ra.exp_avg_unc[n] = torch.zeros_like(p)
        with torch.no_grad():
            grads = [p.grad for p in self.params]
            if any(g is None for g in grads):
                missing = self.names[grads.index(None)]
                raise TypeError(f"{missing} has no gradient: update_and_allocate must run before zero_grad()")
            ipt = torch._foreach_mul(self.params, grads)
            torch._foreach_abs_(ipt)
            avg = [ra.exp_avg_ipt[n] for n in self.names]
            unc = [ra.exp_avg_unc[n] for n in self.names]
            # peft: avg = b1 * avg + (1 - b1) * ipt; unc = b2 * unc + (1 - b2) * |ipt - avg|  (same op order)
            new_avg = torch._foreach_add(torch._foreach_mul(avg, b1), torch._foreach_mul(ipt, 1 - b1))
            diff = torch._foreach_sub(ipt, new_avg)
            torch._foreach_abs_(diff)
            new_unc = torch._foreach_add(torch._foreach_mul(unc, b2), torch._foreach_mul(diff, 1 - b2))
            for i, n in enumerate(self.names):
                ra.ipt[n], ra.exp_avg_ipt[n], ra.exp_avg_unc[n] = ipt[i], new_avg[i], new_unc[i]

    def triplet_scores(self) -> dict[str, Any]:
        """``{lora_E name: score (r, 1)}`` exactly as ``RankAllocator.mask_to_budget`` builds them."""
        import torch

        ra = self.model.rankallocator
        a_tag, b_tag, e_tag = (f"lora_{x}.{self.adapter_name}" for x in "ABE")
        names = [n for n in self.names if a_tag in n or b_tag in n or e_tag in n]
        scores = torch._foreach_mul([ra.exp_avg_ipt[n] for n in names], [ra.exp_avg_unc[n] for n in names])
        vector: dict[str, list[Any]] = defaultdict(list)
        value: dict[str, Any] = {}
        for n, s in zip(names, scores, strict=True):
            if a_tag in n:
                vector[n.replace("lora_A", "%s")].append(torch.mean(s, dim=1, keepdim=True))
            elif b_tag in n:
                vector[n.replace("lora_B", "%s")].append(torch.mean(s, dim=0, keepdim=False).view(-1, 1))
            else:
                value[n.replace("lora_E", "%s")] = s
        out: dict[str, Any] = {}
        for name_m, parts in vector.items():
            summed = torch.cat(parts, dim=1).sum(dim=1, keepdim=False)
            out[name_m % "lora_E"] = (value[name_m].view(-1) + summed.view(-1)).view(-1, 1)
        return out

    def mask_to_budget(self, budget: int) -> dict[str, list[bool]]:
        """Mask the lowest-scoring triplets down to ``budget``; one threshold, one host copy of the pattern."""
        import torch

        ra = self.model.rankallocator
        triplet = self.triplet_scores()
        threshold = torch.kthvalue(torch.cat([s.view(-1) for s in triplet.values()]), k=ra.init_bgt - budget)[0]
        names = [n for n in self.e_names if n in triplet]
        keep = ~(torch.cat([triplet[n].view(-1) for n in names]) <= threshold)  # peft's test, NaN included
        keep_rows = keep.split([triplet[n].numel() for n in names])
        params = dict(zip(self.e_names, self.e_params, strict=True))
        with torch.no_grad():
            for n, k in zip(names, keep_rows, strict=True):
                params[n].masked_fill_(~k.view(-1, 1), 0.0)
        flat = keep.tolist()
        pattern: dict[str, list[bool]] = {}
        start = 0
        for n in names:
            size = triplet[n].numel()
            pattern[n] = flat[start:start + size]
            start += size
        return pattern

    def mask_using_rank_pattern(self, rank_pattern: dict[str, list[bool]]) -> None:
        """Zero the masked triplets of the final phase; the masks are built once per pattern, not every step."""
        import torch

        cache = self._mask_cache
        if cache is None or cache[0] is not rank_pattern:
            truncated = self.adapter_name not in next(iter(rank_pattern))
            masks = []
            for n, p in zip(self.e_names, self.e_params, strict=True):
                key = n.replace(f".{self.adapter_name}", "") if truncated else n
                masks.append(~torch.tensor(rank_pattern[key], dtype=torch.bool, device=p.device).view(-1, 1))
            cache = self._mask_cache = (rank_pattern, masks)
        with torch.no_grad():
            for p, dropped in zip(self.e_params, cache[1], strict=True):
                p.masked_fill_(dropped, 0.0)
