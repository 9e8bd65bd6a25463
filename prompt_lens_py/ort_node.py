"""Runs a check script in Node with the repository's onnxruntime-node (what the engine runs), for comparing an
exported ONNX file with PyTorch. Needs `npm ci` at the repository root."""
from __future__ import annotations

import os
import subprocess
import tempfile

from prompt_lens_py.paths import REPO_ROOT

ONNXRUNTIME_NODE = os.path.join(REPO_ROOT, "node_modules", "onnxruntime-node")


def run_node(js: str, args: list[str]) -> subprocess.CompletedProcess:
    """Runs `js` with onnxruntime-node's path as process.argv[2] and `args` after it; stdout and stderr captured."""
    with tempfile.TemporaryDirectory(prefix="prompt-lens-ort-") as tmp:
        script = os.path.join(tmp, "check.js")
        with open(script, "w") as f:
            f.write(js)
        return subprocess.run(["node", script, ONNXRUNTIME_NODE, *args], capture_output=True, text=True)
