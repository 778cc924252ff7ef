"""Offline stand-ins for the real data sets: 2D Gaussian mixtures, MNIST-like digits, CIFAR-like shapes, facades,
voxel furniture.

Each module keeps its own VERSION (part of its cache file names), so import it from that module.
"""

from gan_utils.data.synthetic.digits import DIGIT_FONTS, synthetic_digits
from gan_utils.data.synthetic.facades import FACADE_CLASSES, FACADE_PALETTE, synthetic_facades
from gan_utils.data.synthetic.mixtures import Mixture2D, grid25, ring8
from gan_utils.data.synthetic.shapes import SHAPE_CLASSES, synthetic_shapes
from gan_utils.data.synthetic.voxels import FURNITURE_CLASSES, synthetic_furniture

__all__ = ["DIGIT_FONTS", "FACADE_CLASSES", "FACADE_PALETTE", "FURNITURE_CLASSES", "SHAPE_CLASSES", "Mixture2D",
           "grid25", "ring8", "synthetic_digits", "synthetic_facades", "synthetic_furniture", "synthetic_shapes"]
