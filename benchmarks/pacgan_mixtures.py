"""The PacGAN Table 1 protocol at a chosen size: ring8 and grid25 x packs x seeds, mean ± sd and wall time per cell.

Each (mixture, pack) cell trains its seeds stacked (`gan_utils.train.seed_runs.train_mixture_runs`) and scores 2,500
samples per run (modes covered, high-quality %, reverse KL). Use it to pick the notebook's per-mode sizes.
Example: `flock /tmp/torch.lock .venv/bin/python benchmarks/pacgan_mixtures.py --steps 3000 --lr 1e-3 --g-width 128`
"""

from __future__ import annotations

import argparse
import time

import torch

from gan_utils.data.synthetic.mixtures import grid25, ring8
from gan_utils.train.seed_runs import train_mixture_runs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mixtures", nargs="+", default=["ring8", "grid25"])
    ap.add_argument("--packs", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=100, help="paper: 100")
    ap.add_argument("--lr", type=float, default=1e-4, help="paper: 1e-4")
    ap.add_argument("--beta1", type=float, default=0.8, help="paper: 0.8")
    ap.add_argument("--g-width", type=int, default=400, help="paper: 400")
    ap.add_argument("--g-layers", type=int, default=4, help="paper: 4")
    ap.add_argument("--d-width", type=int, default=200, help="paper: 200")
    ap.add_argument("--d-layers", type=int, default=3, help="paper: 3")
    ap.add_argument("--decay-from", type=float, default=None, help="linear lr decay to 0 from this fraction")
    ap.add_argument("--eval-every", type=int, default=0)
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device {device}, {torch.get_num_threads()} threads; {vars(args)}", flush=True)
    t_all = time.perf_counter()
    for name in args.mixtures:
        mixture = {"ring8": ring8, "grid25": grid25}[name]()
        for m in args.packs:
            t = time.perf_counter()
            out = train_mixture_runs(mixture, m, args.seeds, args.steps, args.batch, args.lr, (args.beta1, 0.999),
                                     g_width=args.g_width, g_layers=args.g_layers, d_width=args.d_width,
                                     d_layers=args.d_layers, decay_from=args.decay_from, device=device,
                                     eval_every=args.eval_every, progress=False)
            for step, stats in out.history[:-1]:
                rows = torch.tensor([list(s.as_row().values()) for s in stats], dtype=torch.float64)
                cells = ", ".join(f"{k} {mu:.2f} ± {sd:.2f}" for k, mu, sd in
                                  zip(stats[0].as_row(), rows.mean(0), rows.std(0), strict=True))
                print(f"  {name} m={m} step {step}: {cells}")
            cells = ", ".join(f"{k} {mu:.2f} ± {sd:.2f}" for k, (mu, sd) in out.summary().items())
            per_run = [(s.modes_covered, round(100 * s.high_quality, 1), round(s.reverse_kl, 2)) for s in out.stats]
            print(f"{name:6s} m={m}: {cells}  [{time.perf_counter() - t:.0f} s]  runs {per_run}", flush=True)
    print(f"total {time.perf_counter() - t_all:.0f} s")


if __name__ == "__main__":
    main()
