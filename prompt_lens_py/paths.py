"""Where the package's inputs and outputs live in the repository (scripts run from its root, but need not)."""
from __future__ import annotations

import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_SHAPES = os.path.join(REPO_ROOT, "models", "tiny-shapes")
NEGLECT_SHAPES = os.path.join(REPO_ROOT, "models", "neglect-shapes")
FIXTURES = os.path.join(REPO_ROOT, "test", "fixtures")


def weights_file(model_dir: str) -> str:
    """A model folder's committed training checkpoint (fp16, EMA weights): what its ONNX files were exported from."""
    return os.path.join(model_dir, "train", "weights-fp16.pt")


def repo_relative(path: str) -> str:
    """`path` relative to the repository root when inside it (for records that should not name this machine)."""
    path = os.path.abspath(path)
    return os.path.relpath(path, REPO_ROOT) if path.startswith(REPO_ROOT + os.sep) else path
