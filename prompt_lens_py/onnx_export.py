"""torch -> ONNX the way every model here is exported (opset 17, constant folding, TorchScript exporter), and the
JSON files beside it."""
from __future__ import annotations

import inspect
import json
import os

import torch

OPSET = 17
# torch >= 2.9 exports through dynamo by default, a different graph from Optimum's; the TorchScript exporter is
# what Optimum uses (bench/gpu/device.sh runs the SD fixture's export on the GPU machine's newer torch).
TORCHSCRIPT_EXPORTER = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


def export_onnx(model, args: tuple, path: str, input_names: list, output_names: list, dynamic_axes: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(model, args, path, input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes,
                          opset_version=OPSET, do_constant_folding=True, **TORCHSCRIPT_EXPORTER)


def write_json(path: str, obj) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
