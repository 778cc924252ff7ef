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
- `gan3d`: Wu et al. 2016, the volumetric G and D at 32^3 and 64^3, D's pooled features and the accuracy-gated
  D update (notebook 07). Uses `nn.blocks3d`, `nn.init`.

Planned homes for the later papers, and the `nn/` layers they will share:
- `pacgan`: Lin et al. 2018, a D that sees m packed samples; extends `dcgan`.
- `pix2pix`: Isola et al. 2017, U-Net G and PatchGAN D. U-Net and PatchGAN blocks (`nn/unet.py`,
  `nn/patchgan.py`), `nn.init`.
- `cyclegan`: Zhu et al. 2017, ResNet G, PatchGAN D and the image pool. ResNet blocks (`nn/resnet.py`),
  `nn/patchgan.py`, `nn.init`.
- `pix2pixhd`: Wang et al. 2018, coarse-to-fine G and multi-scale D; extends `pix2pix`. ResNet and PatchGAN blocks.
- `vid2vid`: Wang et al. 2018, sequential G with flow warping; extends `pix2pixhd`.
- `biggan`: Brock et al. 2019, class-conditional BN and projection D. `nn.normalization` (conditional BN),
  `nn.conditioning`.
"""
