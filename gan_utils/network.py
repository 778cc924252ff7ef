"""Whether a download could work: one quick connection, so that an offline run falls back in seconds, not minutes.

Data loaders, the FID's Inception weights and pix2pixHD's VGG weights all ask it before they download.
"""

from __future__ import annotations

import os
import socket

__all__ = ["network_available"]


def network_available(host: str = "ossci-datasets.s3.amazonaws.com", port: int = 443, timeout: float = 3.0) -> bool:
    """Quick check that a download could work, so an offline run falls back in seconds, not minutes."""
    if os.environ.get("GAN_OFFLINE"):
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
