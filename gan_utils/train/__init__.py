"""Training machinery every notebook shares: the Trainer, checkpoints, loss history, batched seed runs, DDP."""
