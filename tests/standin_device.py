"""A stand-in accelerator for CPU-only machines: real numbers, GPU rules.

Learners run the notebooks on Colab GPUs and Apple MPS; CI has neither. This module registers a Python device
`standin` (PyTorch's PrivateUse1 slot) whose tensors hold real CPU data, so whole notebooks train and print real
numbers on it, while it enforces the rules that a GPU enforces and a CPU does not:

- a CPU tensor meeting a device tensor in one op raises `DeviceMixError` (as CUDA's "Expected all tensors to be
  on the same device"), with CUDA's own exceptions: 0-dim CPU scalars, CPU indices into a device tensor, copy_;
- `.numpy()` (and so matplotlib and numpy conversions) of a device tensor raises, as on CUDA: `.cpu()` first;
- a CPU `torch.Generator` drawing for the device raises, as CUDA's "Expected a 'cuda' device type for generator";
- float64 on the device raises (Apple's MPS has no float64).

Use: `enable()` in the process, then `torch.device("standin")` is a device like "cuda". Checkpoints save device
tensors as CPU tensors (a real GPU would save CUDA storages); `torch.load(map_location=<the device>)` fails, as
loading a checkpoint's RNG states onto a GPU does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten, tree_map

NAME = "standin"
aten = torch.ops.aten


class DeviceMixError(RuntimeError):
    """A CPU tensor met a device tensor, a device tensor went to numpy, or float64 reached the device."""


# Ops that CUDA accepts with some CPU tensor arguments: which positions may be CPU (besides 0-dim scalars).
_CPU_OK = {
    aten.copy_.default: "all",          # cross-device copies are how data moves
    aten._to_copy.default: "all",
    aten.index.Tensor: "indices",       # x_cuda[idx_cpu] works on CUDA
    aten.index_put_.default: "indices",
    aten.index_put.default: "indices",
    aten._index_put_impl_.default: "indices",
}


class StandInTensor(torch.Tensor):
    """A tensor on the stand-in device: its data is a CPU tensor `elem`."""

    elem: torch.Tensor

    @staticmethod
    def __new__(cls, elem: torch.Tensor) -> StandInTensor:
        r = torch.Tensor._make_wrapper_subclass(  # type: ignore[attr-defined]
            cls, elem.size(), strides=elem.stride(), storage_offset=elem.storage_offset(), dtype=elem.dtype,
            layout=elem.layout, device=torch.device(NAME, 0), requires_grad=elem.requires_grad)
        r.elem = elem
        return r

    __torch_function__ = torch._C._disabled_torch_function_impl

    def __repr__(self, **kwargs: Any) -> str:  # type: ignore[override]
        return f"{self.elem!r} (on {NAME})"

    def __reduce_ex__(self, proto: int) -> Any:
        # torch.save: stored as a plain CPU tensor, which weights_only loading accepts.
        return self.elem.detach().clone().__reduce_ex__(proto)

    def __tensor_flatten__(self) -> tuple[list[str], None]:
        return ["elem"], None

    @staticmethod
    def __tensor_unflatten__(inner: dict[str, torch.Tensor], meta: Any, size: Any, stride: Any) -> StandInTensor:
        return StandInTensor(inner["elem"])

    @classmethod
    def __torch_dispatch__(cls, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        _check_mix(func, args, kwargs)
        out = func(*tree_map(_unwrap, args), **tree_map(_unwrap, kwargs))
        if func is aten._to_copy.default and _is_cpu(kwargs.get("device")):
            return out
        return tree_map(lambda x: _wrap(x, func), out)


def _is_cpu(d: Any) -> bool:
    return d is not None and torch.device(d).type == "cpu"


def _is_standin(d: Any) -> bool:
    if isinstance(d, str):
        return d.split(":")[0] == NAME
    return isinstance(d, torch.device) and d.type == NAME


def _unwrap(x: Any) -> Any:
    if isinstance(x, StandInTensor):
        return x.elem
    if _is_standin(x):
        return torch.device("cpu")
    return x


def _wrap(x: Any, what: Any) -> Any:
    if isinstance(x, torch.Tensor) and not isinstance(x, StandInTensor):
        if x.dtype in (torch.float64, torch.complex128):
            raise DeviceMixError(f"{what} made a {x.dtype} tensor on the device; Apple's MPS has no float64. Keep "
                                 f"float64 on the CPU (`.cpu().double()`), or use float32.")
        return StandInTensor(x)
    return x


def _is_plain_cpu(a: Any) -> bool:
    return isinstance(a, torch.Tensor) and not isinstance(a, StandInTensor) and a.dim() > 0


def _check_mix(func: Any, args: tuple, kwargs: dict) -> None:
    flat, _ = tree_flatten((args, kwargs))
    if not any(isinstance(a, StandInTensor) for a in flat):
        return
    rule = _CPU_OK.get(func)
    if rule == "all":
        return
    checked = flat
    if rule == "indices":  # the indexed tensor and the values must be on the device; the indices may be CPU
        checked = [args[0], *(args[2:] if len(args) > 2 else [])]
    cpu = [tuple(a.shape) for a in checked if _is_plain_cpu(a)]
    if cpu:
        raise DeviceMixError(f"Expected all tensors to be on the same device, but {func} got CPU tensor(s) of shape "
                             f"{cpu} with {NAME} tensors (on a GPU: 'found at least two devices, cuda:0 and cpu').")


def _to_device(t: torch.Tensor, args: tuple, kwargs: dict) -> torch.Tensor:
    args = tuple("cpu" if _is_standin(a) else a for a in args)
    kwargs = {k: ("cpu" if _is_standin(v) else v) for k, v in kwargs.items()}
    moved = t.to(*args, **kwargs)
    if moved is t:
        moved = t.detach().clone().requires_grad_(t.requires_grad)
    out = _wrap(moved.detach(), "Tensor.to")
    return out.requires_grad_(moved.requires_grad) if moved.requires_grad and moved.is_leaf else out


class StandInMode(TorchFunctionMode):
    """Routes factory calls and `.to()` for the stand-in device to CPU data, and stops numpy conversions."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        first = args[0] if args else None
        if name == "to" and isinstance(first, torch.Tensor) and not isinstance(first, StandInTensor) and (
                any(_is_standin(a) for a in args[1:]) or _is_standin(kwargs.get("device"))
                or any(isinstance(a, StandInTensor) for a in args[1:])):
            return _to_device(first, tuple(NAME if isinstance(a, StandInTensor) else a for a in args[1:]), kwargs)
        if isinstance(first, StandInTensor) and name in ("numpy", "__array__"):
            raise DeviceMixError(f"can't convert {NAME}:0 device type tensor to numpy. Use Tensor.cpu() to copy the "
                                 f"tensor to host memory first (as on CUDA).")
        if isinstance(first, StandInTensor) and name in ("tolist", "__format__"):
            return getattr(first.elem, name)(*args[1:], **kwargs)  # allowed on CUDA too (they copy to the host)
        if isinstance(first, StandInTensor) and name in ("__getitem__", "__setitem__"):
            # A list index becomes a tensor in C++ code that bypasses this device; CUDA takes CPU index tensors.
            idx = args[1]
            fix = lambda i: torch.tensor(i) if isinstance(i, list) else i  # noqa: E731
            idx = tuple(fix(i) for i in idx) if isinstance(idx, tuple) else fix(idx)
            return func(first, idx, *args[2:], **kwargs)
        gen = kwargs.get("generator")
        if gen is not None and isinstance(first, StandInTensor) and not getattr(gen, "_standin", False):
            raise DeviceMixError(f"{name}: a CPU torch.Generator cannot draw for a {NAME} tensor (on a GPU: 'Expected "
                                 f"a 'cuda' device type for generator').")
        if getattr(gen, "_standin", False) and not _is_standin(kwargs.get("device")) and not (
                isinstance(first, StandInTensor)):
            raise DeviceMixError(f"{name}: a {NAME} generator cannot draw on the CPU (on a GPU: 'Expected a 'cpu' "
                                 f"device type for generator but found 'cuda''). Pass device= or use a CPU generator.")
        if _is_standin(kwargs.get("device")):
            if gen is not None and not getattr(gen, "_standin", False):
                raise DeviceMixError(f"{name}: a CPU torch.Generator cannot draw on the device (on a GPU: 'Expected "
                                     f"a 'cuda' device type for generator'). Draw on the CPU and move the result, or "
                                     f"make the generator on the device.")
            out = func(*args, **{**kwargs, "device": "cpu"})
            return tree_map(lambda x: _wrap(x, name), out)
        return func(*args, **kwargs)


_CPUGenerator = torch.Generator


class StandInGenerator(_CPUGenerator):
    """torch.Generator that also accepts device="standin": a CPU generator marked as the device's."""

    def __new__(cls, device: Any = None) -> StandInGenerator:
        return super().__new__(cls, device="cpu" if _is_standin(device) else device)

    def __init__(self, device: Any = None) -> None:
        self._standin = _is_standin(device)

    @property
    def device(self) -> torch.device:  # type: ignore[override]
        return torch.device(NAME, 0) if self._standin else super().device


_lib: torch.library.Library | None = None


def register() -> torch.device:
    """Register the stand-in device with torch (once per process; it cannot be undone); return the device."""
    global _lib
    if _lib is None:
        from torch.utils.backend_registration import _setup_privateuseone_for_python_backend

        _setup_privateuseone_for_python_backend(NAME)
        _lib = torch.library.Library("aten", "IMPL")  # composite ops (e.g. batch_norm) allocate on the device
        _lib.impl("empty.memory_format", lambda size, dtype=None, layout=None, device=None, pin_memory=None,
                  memory_format=None: StandInTensor(torch.empty(size, dtype=dtype, memory_format=memory_format)),
                  "PrivateUse1")
        _lib.impl("empty_strided", lambda size, stride, dtype=None, layout=None, device=None, pin_memory=None:
                  StandInTensor(torch.empty_strided(size, stride, dtype=dtype)), "PrivateUse1")
    return torch.device(NAME, 0)


@contextmanager
def active() -> Iterator[torch.device]:
    """Within the block, torch calls follow the stand-in device's rules (for unit tests)."""
    device = register()
    torch.Generator = StandInGenerator  # type: ignore[misc]
    try:
        with StandInMode():
            yield device
    finally:
        torch.Generator = _CPUGenerator  # type: ignore[misc]


def enable() -> torch.device:
    """Register the device and follow its rules for the rest of the process (a notebook kernel's first cell)."""
    device = register()
    torch.Generator = StandInGenerator  # type: ignore[misc]
    StandInMode().__enter__()
    return device
