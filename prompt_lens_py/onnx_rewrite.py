"""Rewrites of an exported ONNX file, as other exporters store the same graph: weights as float16 behind Casts,
float16 inputs and outputs, weights in one external data file (onnx_proto's codec, no onnx package)."""
from __future__ import annotations

import os

import numpy as np

from prompt_lens_py.onnx_proto import (ATTR_I, ATTR_NAME, ATTR_TYPE, FLOAT, FLOAT16, GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_NODE,
                                       GRAPH_OUTPUT, GRAPH_VALUE_INFO, MODEL_GRAPH, NODE_ATTR, NODE_INPUT, NODE_NAME, NODE_OP,
                                       NODE_OUTPUT, TENSOR_EXTERNAL, TENSOR_LOCATION, TENSOR_NAME, TENSOR_RAW, TENSOR_TYPE,
                                       TENSOR_TYPE_ELEM, TYPE_TENSOR, VALUE_NAME, VALUE_TYPE, pb_all, pb_bytes, pb_get, pb_parse,
                                       pb_str)


def _edit_graph(path: str, edit) -> None:
    with open(path, "rb") as f:
        model = pb_parse(f.read())
    for f in model:
        if f[0] == MODEL_GRAPH:
            graph = pb_parse(f[2])
            graph = edit(graph)
            f[2] = pb_bytes(graph)
    with open(path, "wb") as f:
        f.write(pb_bytes(model))


def _tensor_bytes(t, base_dir: str, read_files: set):
    """The element bytes of a TensorProto: raw_data, or its external file (torch writes one file per tensor for
    models over 2 GB); None for tensors kept in typed fields (small constants)."""
    raw = pb_get(t, TENSOR_RAW)
    if raw is not None:
        return raw
    if pb_get(t, TENSOR_LOCATION) != 1:
        return None
    entries = {}
    for e in pb_all(t, TENSOR_EXTERNAL):
        kv = pb_parse(e)
        entries[pb_get(kv, 1, b"").decode()] = pb_get(kv, 2, b"").decode()
    file = os.path.join(base_dir, entries["location"])
    read_files.add(file)
    with open(file, "rb") as fh:
        fh.seek(int(entries.get("offset", 0)))
        return fh.read(int(entries["length"])) if "length" in entries else fh.read()


def _remove_files(files, keep: str) -> None:
    for file in files:
        if os.path.abspath(file) != os.path.abspath(keep) and os.path.exists(file):
            os.remove(file)


def to_external_data(path: str, threshold: int = 1024) -> tuple:
    """Moves initializers of `threshold` bytes or more into `<model>.onnx_data` (one file, as onnx.save_model with
    all_tensors_to_one_file=True and as optimum-cli leaves a >2 GB UNet): TensorProto.data_location = EXTERNAL,
    external_data = location/offset/length. Tensors torch already wrote as one file each are gathered too."""
    base = os.path.dirname(path)
    data_name = os.path.basename(path) + "_data"
    data_path = os.path.join(base, data_name)
    tmp_path = data_path + ".tmp"
    read_files: set = set()
    moved = size = 0
    with open(tmp_path, "wb") as out:

        def edit(graph):
            nonlocal moved, size
            for f in graph:
                if f[0] != GRAPH_INITIALIZER:
                    continue
                t = pb_parse(f[2])
                raw = _tensor_bytes(t, base, read_files)
                if raw is None or len(raw) < threshold:
                    continue
                out.write(raw)
                t = [x for x in t if x[0] not in (TENSOR_RAW, TENSOR_EXTERNAL, TENSOR_LOCATION)]
                for k, v in (("location", data_name), ("offset", str(size)), ("length", str(len(raw)))):
                    t.append([TENSOR_EXTERNAL, 2, pb_bytes([pb_str(1, k), pb_str(2, v)])])
                t.append([TENSOR_LOCATION, 0, 1])
                f[2] = pb_bytes(t)
                size += len(raw)
                moved += 1
            return graph

        _edit_graph(path, edit)
    os.replace(tmp_path, data_path)
    _remove_files(read_files, data_path)
    return moved, size


def to_fp16_weights(path: str) -> int:
    """Stores every float32 initializer with more than one element as FLOAT16 under `<name>__fp16` and inserts
    `Cast(to=FLOAT)` nodes producing the original names, ahead of all other nodes (the graph stays float32).
    Externally stored tensors come back inline (half the size: a full-size UNet fits in one 1.7 GB file)."""
    base = os.path.dirname(path)
    read_files: set = set()
    converted = 0

    def edit(graph):
        nonlocal converted
        casts = []
        for f in graph:
            if f[0] != GRAPH_INITIALIZER:
                continue
            t = pb_parse(f[2])
            if pb_get(t, TENSOR_TYPE) != FLOAT:
                continue
            raw = _tensor_bytes(t, base, read_files)
            if raw is None or len(raw) <= 4:
                continue
            name = pb_get(t, TENSOR_NAME).decode("utf-8")
            half = np.frombuffer(raw, dtype="<f4").astype("<f2").tobytes()
            new = []
            for x in t:
                if x[0] == TENSOR_TYPE:
                    new.append([TENSOR_TYPE, 0, FLOAT16])
                elif x[0] == TENSOR_NAME:
                    new.append(pb_str(TENSOR_NAME, name + "__fp16"))
                elif x[0] in (TENSOR_RAW, TENSOR_EXTERNAL, TENSOR_LOCATION):
                    continue
                else:
                    new.append(x)
            new.append([TENSOR_RAW, 2, half])
            f[2] = pb_bytes(new)
            attr = pb_bytes([pb_str(ATTR_NAME, "to"), [ATTR_I, 0, FLOAT], [ATTR_TYPE, 0, 2]])
            casts.append([GRAPH_NODE, 2, pb_bytes([pb_str(NODE_INPUT, name + "__fp16"), pb_str(NODE_OUTPUT, name),
                                                   pb_str(NODE_NAME, f"/fp16_weights/Cast_{converted}"),
                                                   pb_str(NODE_OP, "Cast"), [NODE_ATTR, 2, attr]])])
            converted += 1
        first_node = next(i for i, f in enumerate(graph) if f[0] == GRAPH_NODE)
        return graph[:first_node] + casts + graph[first_node:]

    _edit_graph(path, edit)
    _remove_files(read_files, path)
    return converted


def _value_elem_type(value_info) -> int:
    t = pb_parse(pb_get(value_info, VALUE_TYPE, b""))
    return pb_get(pb_parse(pb_get(t, TYPE_TENSOR, b"")), TENSOR_TYPE_ELEM, 0)


def _with_elem_type(value_info, elem: int) -> bytes:
    t = pb_parse(pb_get(value_info, VALUE_TYPE))
    for f in t:
        if f[0] == TYPE_TENSOR:
            tt = pb_parse(f[2])
            for g in tt:
                if g[0] == TENSOR_TYPE_ELEM:
                    g[2] = elem
            f[2] = pb_bytes(tt)
    for f in value_info:
        if f[0] == VALUE_TYPE:
            f[2] = pb_bytes(t)
    return pb_bytes(value_info)


def to_fp16_io(path: str) -> list:
    """Declares every float32 graph input and output FLOAT16, as `optimum-cli export onnx --fp16` does, around the
    unchanged float32 graph: input `x` (now float16) -> Cast(to=FLOAT) -> `x_fp32`, read by the nodes that read `x`;
    the node that made output `y` makes `y_fp32` -> Cast(to=FLOAT16) -> `y`. (Optimum traces a model.half() on CUDA,
    so its graph computes in float16 throughout; torch 1.13 has no half-precision CPU kernels to trace that.)
    Returns the names changed."""
    changed = []

    def edit(graph):
        inits = {pb_get(pb_parse(f[2]), TENSOR_NAME, b"").decode() for f in graph if f[0] == GRAPH_INITIALIZER}
        rename, casts_in, casts_out = {}, [], []
        cast = lambda src, dst, to: [GRAPH_NODE, 2, pb_bytes([  # noqa: E731
            pb_str(NODE_INPUT, src), pb_str(NODE_OUTPUT, dst), pb_str(NODE_NAME, f"/fp16_io/Cast_{dst.replace('_fp32', '')}"),
            pb_str(NODE_OP, "Cast"), [NODE_ATTR, 2, pb_bytes([pb_str(ATTR_NAME, "to"), [ATTR_I, 0, to], [ATTR_TYPE, 0, 2]])]])]
        for f in graph:
            if f[0] not in (GRAPH_INPUT, GRAPH_OUTPUT):
                continue
            v = pb_parse(f[2])
            name = pb_get(v, VALUE_NAME).decode()
            if name in inits or _value_elem_type(v) != FLOAT:
                continue
            rename[name] = name + "_fp32"
            f[2] = _with_elem_type(v, FLOAT16)
            changed.append(name)
            if f[0] == GRAPH_INPUT:
                casts_in.append(cast(name, name + "_fp32", FLOAT))
            else:
                casts_out.append(cast(name + "_fp32", name, FLOAT16))
        for f in graph:
            if f[0] == GRAPH_NODE:
                n = pb_parse(f[2])
                for x in n:
                    if x[0] in (NODE_INPUT, NODE_OUTPUT) and x[2].decode() in rename:
                        x[2] = rename[x[2].decode()].encode()
                f[2] = pb_bytes(n)
            elif f[0] == GRAPH_VALUE_INFO:
                v = pb_parse(f[2])
                for x in v:
                    if x[0] == VALUE_NAME and x[2].decode() in rename:
                        x[2] = rename[x[2].decode()].encode()
                f[2] = pb_bytes(v)
        nodes = [i for i, f in enumerate(graph) if f[0] == GRAPH_NODE]
        first, last = nodes[0], nodes[-1] + 1
        return graph[:first] + casts_in + graph[first:last] + casts_out + graph[last:]

    _edit_graph(path, edit)
    return changed

