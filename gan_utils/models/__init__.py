"""One module per paper, holding only what that paper adds; shared layers come from `gan_utils.nn`.

A module imports building blocks from `nn/`, and never from another paper's module unless that paper extends
the other (and says so in its docstring).

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
- `pix2pixhd`: Wang et al. 2018, the global G1 and local enhancer G2, the multi-scale D with feature matching,
  instance boundary maps and the instance-wise encoder; extends pix2pix and CycleGAN's blocks in
  `nn.translation` (notebook 11).
- `vid2vid`: Wang et al. 2018, the sequential G with flow warping and an occlusion mask, the image and video
  discriminators; extends `pix2pixhd` (notebook 12).
- `biggan`: Brock et al. 2019, G with shared-embedding conditional BN and skip-z, the projection D, hinge
  losses, the orthogonal regulariser, EMA and truncation (notebook 13). Uses `nn.normalization`; its full-mode
  torchrun entry is `gan_utils.train_biggan`.

pix2pix (notebook 09) and CycleGAN (notebook 10) need no module of their own: their U-Net, PatchGAN, ResNet G,
image pool and LR decay are shared layers in `nn.translation`, and their losses are in `losses`.
"""
