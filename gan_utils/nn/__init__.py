"""Layers shared by the papers: DCGAN's G and D, label conditioning, InfoGAN's Q, and Salimans et al.'s tricks."""

from gan_utils.nn.conditioning import Condition, LabelEmbedding, concat_condition, one_hot
from gan_utils.nn.dcgan import DCGANDiscriminator, DCGANGenerator, weights_init
from gan_utils.nn.improved import (
    HistoricalAverage,
    MinibatchDiscrimination,
    VirtualBatchNorm,
    feature_matching_loss,
    vbn_reference_pass,
)
from gan_utils.nn.info import (
    InfoGANDiscriminator,
    InfoGANGenerator,
    QHead,
    QOutput,
    info_loss,
    latent_input,
    sample_latent,
)

__all__ = [
    "Condition", "LabelEmbedding", "concat_condition", "one_hot",
    "DCGANDiscriminator", "DCGANGenerator", "weights_init",
    "HistoricalAverage", "MinibatchDiscrimination", "VirtualBatchNorm", "feature_matching_loss",
    "vbn_reference_pass",
    "InfoGANDiscriminator", "InfoGANGenerator", "QHead", "QOutput", "info_loss", "latent_input", "sample_latent",
]
