"""What a training run records: losses per step and sample snapshots at fixed z (kept in its checkpoints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class History:
    """Losses per step and sample snapshots at fixed z, kept in checkpoints so curves survive a resume."""

    steps: list[int] = field(default_factory=list)
    losses: dict[str, list[float]] = field(default_factory=dict)
    snapshots: list[tuple[int, torch.Tensor]] = field(default_factory=list)

    def append(self, step: int, losses: dict[str, float]) -> None:
        self.steps.append(step)
        for k, v in losses.items():
            self.losses.setdefault(k, []).append(float(v))

    def state_dict(self) -> dict[str, Any]:
        return {"steps": list(self.steps), "losses": {k: list(v) for k, v in self.losses.items()},
                "snap_steps": [s for s, _ in self.snapshots], "snap_images": [x for _, x in self.snapshots]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = list(state["steps"])
        self.losses = {k: list(v) for k, v in state["losses"].items()}
        self.snapshots = list(zip(state["snap_steps"], state["snap_images"], strict=True))
