"""The torchrun entries: `torchrun -m gan_utils.scripts.train_biggan` and `-m gan_utils.scripts.train_pix2pixhd`."""
