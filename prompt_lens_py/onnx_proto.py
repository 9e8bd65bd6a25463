"""Enough of the protobuf wire format to read and rewrite ONNX files without the onnx package.

A message is kept as a list of [field_number, wire_type, value]; untouched fields are re-emitted byte for byte.
"""
from __future__ import annotations


def _read_varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _varint(v: int) -> bytes:
    if v < 0:
        v += 1 << 64
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_parse(buf) -> list:
    buf = memoryview(buf)
    fields, pos = [], 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, pos = _read_varint(buf, pos)
        elif wt == 2:
            n, pos = _read_varint(buf, pos)
            v = bytes(buf[pos:pos + n])
            pos += n
        elif wt == 5:
            v = bytes(buf[pos:pos + 4])
            pos += 4
        elif wt == 1:
            v = bytes(buf[pos:pos + 8])
            pos += 8
        else:
            raise ValueError(f"unsupported wire type {wt}")
        fields.append([num, wt, v])
    return fields


def pb_bytes(fields) -> bytes:
    out = []
    for num, wt, v in fields:
        out.append(_varint(num << 3 | wt))
        if wt == 0:
            out.append(_varint(v))
        elif wt == 2:
            out.append(_varint(len(v)))
            out.append(v)
        else:
            out.append(v)
    return b"".join(out)


def pb_get(fields, num, default=None):
    for f in fields:
        if f[0] == num:
            return f[2]
    return default


def pb_all(fields, num):
    return [f[2] for f in fields if f[0] == num]


def pb_str(num, s: str):
    return [num, 2, s.encode("utf-8")]


# ONNX field numbers
MODEL_GRAPH = 7
GRAPH_NODE, GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_OUTPUT, GRAPH_VALUE_INFO = 1, 5, 11, 12, 13
VALUE_NAME, VALUE_TYPE, TYPE_TENSOR, TENSOR_TYPE_ELEM = 1, 2, 1, 1
NODE_INPUT, NODE_OUTPUT, NODE_NAME, NODE_OP, NODE_ATTR, NODE_DOMAIN = 1, 2, 3, 4, 5, 7
ATTR_NAME, ATTR_I, ATTR_TYPE = 1, 3, 20
TENSOR_DIMS, TENSOR_TYPE, TENSOR_NAME, TENSOR_RAW, TENSOR_EXTERNAL, TENSOR_LOCATION = 1, 2, 8, 9, 13, 14
FLOAT, FLOAT16 = 1, 10



def float_initializers(path: str) -> set:
    """Raw bytes of every float32 initializer stored in the ONNX file itself."""
    with open(path, "rb") as f:
        graph = pb_parse(pb_get(pb_parse(f.read()), MODEL_GRAPH))
    out = set()
    for raw in pb_all(graph, GRAPH_INITIALIZER):
        t = pb_parse(raw)
        data = pb_get(t, TENSOR_RAW)
        if pb_get(t, TENSOR_TYPE) == FLOAT and data is not None:
            out.add(bytes(data))
    return out


def describe_softmax_neighbourhood(path: str, name_contains: str = "attn2", depth: int = 6) -> str:
    """Text dump of the nodes feeding the first matching Softmax (op, name, inputs), for reports."""
    with open(path, "rb") as f:
        model = pb_parse(f.read())
    graph = pb_parse(pb_get(model, MODEL_GRAPH))
    nodes = []
    producer = {}
    for raw in pb_all(graph, GRAPH_NODE):
        n = pb_parse(raw)
        d = {
            "op": pb_get(n, NODE_OP, b"").decode(),
            "name": pb_get(n, NODE_NAME, b"").decode(),
            "inputs": [x.decode() for x in pb_all(n, NODE_INPUT)],
            "outputs": [x.decode() for x in pb_all(n, NODE_OUTPUT)],
        }
        nodes.append(d)
        for o in d["outputs"]:
            producer[o] = d
    inits = {pb_get(pb_parse(t), TENSOR_NAME, b"").decode() for t in pb_all(graph, GRAPH_INITIALIZER)}
    sm = next((n for n in nodes if n["op"] == "Softmax" and name_contains in n["name"]), None)
    if sm is None:
        return "no Softmax found"
    lines, seen = [], set()

    def walk(tensor, level):
        p = producer.get(tensor)
        if p is None or level > depth or p["name"] in seen:
            if tensor in inits:
                lines.append("  " * level + f"[initializer] {tensor}")
            elif p is None:
                lines.append("  " * level + f"[input] {tensor}")
            return
        seen.add(p["name"])
        lines.append("  " * level + f"{p['op']:<16} {p['name']}  ({', '.join(p['inputs'])}) -> {', '.join(p['outputs'])}")
        for i in p["inputs"]:
            if i:
                walk(i, level + 1)

    walk(sm["outputs"][0], 0)
    return "\n".join(lines)

