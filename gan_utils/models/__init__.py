"""One module per paper, holding only what that paper adds, its networks and its training step; shared layers come
from `gan_utils.nn`.

A module imports building blocks from `nn/`, and never from another paper's module unless that paper extends
the other (and says so in its docstring). It never imports the data loaders, the distributed layer, the Trainer or
the torchrun entries: the caller brings the batch, unwraps DDP and runs the loop (tests/test_import_rules.py).
A paper's step is a function of (networks, optimizers, batch, hyperparameters) that returns the logged losses; the
notebook that teaches it writes it inline and checks it against the module's.

Now:
- `vanilla`: Goodfellow et al. 2014, the MLP G and D and the `mlp` builder (notebook 01).
- `cgan`: Mirza & Osindero 2014, the MLP G and D with a one-hot label; extends `vanilla` (notebook 02).
- `dcgan`: Radford et al. 2015, the convolutional G and D, optionally class-conditional (notebook 03).
  Uses `nn.conditioning`, `nn.init`.
- `infogan`: Chen et al. 2016, the paper's MNIST G and D, the Q head and the latent codes (notebook 04).
  Its loss is `losses.info_loss`.
- `improved`: Salimans et al. 2016, D with minibatch discrimination and K class logits, historical averaging,
  BN -> VBN surgery; extends `dcgan` (notebook 05). Uses `nn.minibatch`, `nn.normalization`.
- `acgan`: Odena et al. 2017, the class-conditional G, the D with a source and a class head, and the losses
  L_S and L_C; extends `dcgan` (notebook 06).
- `gan3d`: Wu et al. 2016, the volumetric G and D at 32^3 and 64^3, D's pooled features, the accuracy-gated
  D update, and 3D-VAE-GAN's image encoder with its KL and reconstruction losses (notebook 07). Uses
  `nn.blocks3d`, `nn.init`.
- `pacgan`: Lin et al. 2018, a D that sees m packed samples; extends `dcgan` (notebook 08).
- `pix2pix`: Isola et al. 2017, the U-Net G and the step (cGAN + lambda L1, D's loss halved; D=None is the
  L1-only ablation) (notebook 09). Uses the PatchGAN of `nn.translation`; its losses are in `losses`.
- `cyclegan`: Zhu et al. 2017, the image pool, the linear LR decay and the step (LSGAN, cycle and identity
  losses) (notebook 10). Uses the ResNet G and the PatchGAN of `nn.translation`.
- `pix2pixhd`: Wang et al. 2018, the global G1 and local enhancer G2, the multi-scale D with feature matching,
  instance boundary maps, the instance-wise encoder and the step; extends pix2pix and builds on the shared
  blocks of `nn.translation` (notebook 11). Its full-mode torchrun entry is `gan_utils.scripts.train_pix2pixhd`.
- `vid2vid`: Wang et al. 2018, the sequential G with flow warping (`nn.warp`) and an occlusion mask, the image
  and video discriminators and the step; extends `pix2pixhd` (notebook 12).
- `biggan`: Brock et al. 2019, G with shared-embedding conditional BN and skip-z, the projection D, hinge
  losses, the orthogonal regulariser, EMA, truncation and the step (notebook 13). Uses `nn.normalization`; its
  full-mode torchrun entry is `gan_utils.scripts.train_biggan`.
"""
