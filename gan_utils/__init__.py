"""Helpers for the course "GANs in computer vision, built from scratch".

Each piece is first written inline in the notebook that teaches it, then promoted here for later notebooks.
"""

from gan_utils.runtime import setup

__all__ = ["setup"]
__version__ = "0.1.0"
