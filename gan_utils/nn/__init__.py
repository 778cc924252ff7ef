"""Layers that several papers share; each paper's own networks live in `gan_utils.models`.

- `blocks3d`: strided 3D conv blocks for volumetric G and D (3D-GAN).
- `conditioning`: feeding a label y to G and D (one-hot or embedded): cGAN, conditional DCGAN, later ACGAN, BigGAN.
- `init`: DCGAN's N(0, 0.02) `weights_init`, kept by InfoGAN, Salimans et al., pix2pix, CycleGAN and others.
- `minibatch`: minibatch discrimination (Salimans et al.), for any D that should see across the batch.
- `normalization`: virtual batch norm (Salimans et al.) and class-conditional BN (BigGAN).
- `translation`: pix2pix's PatchGAN (with its receptive field) and the ResNet G and block, shared by pix2pix,
  CycleGAN, pix2pixHD and vid2vid; the norms they choose from.
- `warp`: backward warping of images by a dense flow (vid2vid's generator and the temporal measures).
"""

from gan_utils.nn.blocks3d import down3d, up3d, volume_stages
from gan_utils.nn.conditioning import Condition, LabelEmbedding, concat_condition, one_hot
from gan_utils.nn.init import weights_init
from gan_utils.nn.minibatch import MinibatchDiscrimination
from gan_utils.nn.normalization import ConditionalBatchNorm2d, VirtualBatchNorm, vbn_reference_pass
from gan_utils.nn.translation import (
    PatchDiscriminator,
    ResnetBlock,
    ResnetGenerator,
    patch_output_size,
    receptive_field,
)
from gan_utils.nn.warp import warp

__all__ = [
    "down3d", "up3d", "volume_stages",
    "Condition", "LabelEmbedding", "concat_condition", "one_hot",
    "weights_init",
    "MinibatchDiscrimination",
    "ConditionalBatchNorm2d", "VirtualBatchNorm", "vbn_reference_pass",
    "PatchDiscriminator", "ResnetBlock", "ResnetGenerator", "patch_output_size", "receptive_field",
    "warp",
]
