"""Stable Diffusion's building blocks in plain torch, once, for every model here: the embedded models
(tiny_shapes.model builds its UNet from them) and the SD 1.x/2.x test fixtures (fixtures.sd_fixture).

Module and parameter names are diffusers' / transformers', so state_dict keys match theirs and exported ONNX
node names read like a real export's (`/down_blocks.1/attentions.0/transformer_blocks.0/attn2/Softmax`).

Each config's `lean_graph` picks one of two traced forms of the same maths:
- False: the code of diffusers / transformers as an Optimum export traces it, with the no-op nodes it leaves in
  the graph (Cast to the same dtype, Div by 1, the timesteps' Expand, activations as modules). The SD fixtures
  stand in for real exports, so they keep these.
- True: the embedded models' form, without those nodes (and with a few orderings of their own). Their ONNX
  files ship; an export from the committed weights reproduces them byte for byte.
Creation order also differs between the two where noted: it decides a seeded initialisation and the order of
an ONNX file's initializers.
"""

from torch import nn


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
