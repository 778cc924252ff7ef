"""What the notebooks show: grids, curves and voxel renderings (viz), clip players (animation), sliders (widgets)."""
