"""Layers that several papers share; each paper's own networks live in `gan_utils.models`.

- `blocks3d`: strided 3D conv blocks for volumetric G and D (3D-GAN).
- `conditioning`: feeding a label y to G and D (one-hot or embedded): cGAN, conditional DCGAN, later ACGAN, BigGAN.
- `init`: DCGAN's N(0, 0.02) `weights_init`, kept by InfoGAN, Salimans et al., pix2pix, CycleGAN and others.
- `minibatch`: minibatch discrimination (Salimans et al.), for any D that should see across the batch.
- `normalization`: virtual batch norm (Salimans et al.) and class-conditional BN (BigGAN).
- `translation`: pix2pix's U-Net and PatchGAN (with its receptive field), CycleGAN's ResNet G, image pool and
  linear LR decay, shared by pix2pix, CycleGAN and pix2pixHD.
"""

from gan_utils.nn.blocks3d import down3d, up3d, volume_stages
from gan_utils.nn.conditioning import Condition, LabelEmbedding, concat_condition, one_hot
from gan_utils.nn.init import weights_init
from gan_utils.nn.minibatch import MinibatchDiscrimination
from gan_utils.nn.normalization import ConditionalBatchNorm2d, VirtualBatchNorm, vbn_reference_pass
from gan_utils.nn.translation import (
    ImagePool,
    PatchDiscriminator,
    ResnetBlock,
    ResnetGenerator,
    UnetGenerator,
    linear_decay,
    patch_output_size,
    receptive_field,
    unet_depth,
)

__all__ = [
    "down3d", "up3d", "volume_stages",
    "Condition", "LabelEmbedding", "concat_condition", "one_hot",
    "weights_init",
    "MinibatchDiscrimination",
    "ConditionalBatchNorm2d", "VirtualBatchNorm", "vbn_reference_pass",
    "ImagePool", "PatchDiscriminator", "ResnetBlock", "ResnetGenerator", "UnetGenerator", "linear_decay",
    "patch_output_size", "receptive_field", "unet_depth",
]
