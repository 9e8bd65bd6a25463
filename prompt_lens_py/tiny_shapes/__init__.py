"""tiny-shapes: the embedded model (a miniature Stable Diffusion on scenes of coloured shapes) and its training."""
