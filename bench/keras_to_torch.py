#!/usr/bin/python3
"""keras_to_torch.py: a Keras-layout .h5 model file run as a torch.nn.Module.

Reads the legacy full-model HDF5 layout that Keras and minidl write (the
`model_config` attribute's JSON and the `/model_weights` groups) and builds a
torch.nn.Module that computes the same function in inference mode, by
interpreting the graph: Sequential and Functional models, nested models, the
Keras 2 node format ([[layer, node, tensor, kwargs], ...]) and the Keras 3 one
({"args": [...], "kwargs": {...}}, operands that are tensors or constants).

Layout: a rank-4 tensor lives as NCHW inside the module (the input is converted
once, the output converted back); the layers and their layout rules are in
bench/keras_torch_layers.py.

Usage:
  keras_to_torch.py MODEL.h5 [--minidl build/tools/minidl] [--io NAME.io.h5]
prints the largest difference between the torch output and minidl's predict (and
Keras's `y` when an io file with `x` and `y` is given or lies beside the model),
and exits 1 when one exceeds 1e-4 + 1e-3*max|y|.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_torch_layers import (  # noqa: E402
    Activation, BatchNorm, Concat, Conv2d, Crop, Dense, Flatten, GlobalPool, Identity, LayerNorm, LayerWeights, Merge,
    Pool, ReLU, Reshape, Scale, UnsupportedModel, ZeroPad, basename, from_keras, normalization, tensor, to_keras)

# ---------------------------------------------------------------------------
# The graph.

def is_keras_tensor(v):
    return isinstance(v, dict) and v.get("class_name") == "__keras_tensor__"


def short_class(layer):
    return layer["class_name"].split(".")[-1]


class Graph(torch.nn.Module):
    """A Sequential or Functional model config, run in inference mode."""

    def __init__(self, model_cfg, weights_of, where):
        """weights_of(layer_name) -> [(basename, array)] for this model's layers."""
        super().__init__()
        self.where = where
        kind = short_class(model_cfg)
        cfg = model_cfg["config"]
        self.layers = torch.nn.ModuleDict()
        self.plan = []  # (module key, node key, args template, kwargs) in execution order
        self.release = None  # per plan step, the tensors to free after it (_release_plan)
        if kind == "Sequential":
            self._build_sequential(cfg, weights_of)
        elif kind in ("Functional", "Model"):
            self._build_functional(cfg, weights_of)
        else:
            raise UnsupportedModel(f"{where}: not a model config: {kind}")

    # Module keys: ModuleDict names may not contain dots.
    @staticmethod
    def key(name):
        return "l_" + name.replace(".", "_")

    def _add_layer(self, layer, weights_of):
        name = layer.get("config", {}).get("name") or layer.get("name")
        module = make_layer(layer, weights_of, f"{self.where}: layer '{name}'")
        self.layers[self.key(name)] = module
        return name

    def _build_sequential(self, cfg, weights_of):
        layers = cfg["layers"] if isinstance(cfg, dict) else cfg
        self.input_names = ["__input__"]
        previous = (("__input__", 0), 0)
        for layer in layers:
            if short_class(layer) == "InputLayer":
                continue
            name = self._add_layer(layer, weights_of)
            self.plan.append((self.key(name), (name, 0), [("t", previous)], {}))
            previous = ((name, 0), 0)
        self.output_refs = [previous]

    def _build_functional(self, cfg, weights_of):
        def refs(spec):
            return [spec] if spec and isinstance(spec[0], str) else spec

        self.input_names = [r[0] for r in refs(cfg["input_layers"])]
        pending = []
        for layer in cfg["layers"]:
            name = layer.get("name") or layer["config"]["name"]
            if short_class(layer) == "InputLayer":
                continue
            self._add_layer(layer, weights_of)
            first = first_node_index(layer)
            for node_index, node in enumerate(layer.get("inbound_nodes", []), start=first):
                pending.append((name, node_index, *self._node_args(node)))
        available = {(n, 0, 0) for n in self.input_names}
        # Execution order: repeatedly run the nodes whose inputs are all available.
        while pending:
            ready = [p for p in pending if all(r in available for r in p[4])]
            if not ready:
                raise UnsupportedModel(f"{self.where}: graph inputs never computed for {[p[0] for p in pending][:5]}")
            for p in ready:
                name, node_index, args, kwargs, needed = p
                self.plan.append((self.key(name), (name, node_index), args, kwargs))
                pending.remove(p)
                # A node's outputs: tensor indices 0.. (the plan stores the call's result).
                available.update((name, node_index, t) for t in range(8))
        self.output_refs = [((r[0], r[1]), r[2]) for r in refs(cfg["output_layers"])]

    def _node_args(self, node):
        """(args template, kwargs, the (layer, node, tensor) refs it needs) of one inbound node."""
        needed = []

        def template(v):
            if is_keras_tensor(v):
                h = v["config"]["keras_history"]
                needed.append((h[0], h[1], h[2]))
                return ("t", ((h[0], h[1]), h[2]))
            if isinstance(v, list):
                return ("list", [template(e) for e in v])
            return ("const", v)

        if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
            args = [template(a) for a in node.get("args", [])]
            kwargs = {k: v for k, v in node.get("kwargs", {}).items() if not is_keras_tensor(v)}
            return args, kwargs, needed
        # Keras 2: [[layer, node, tensor, kwargs], ...]; several entries are one list argument.
        entries = [("t", ((e[0], e[1]), e[2])) for e in node]
        needed.extend((e[0], e[1], e[2]) for e in node)
        kwargs = node[0][3] if node and len(node[0]) > 3 else {}
        extra = [("const", v) for k, v in kwargs.items() if k == "y"]  # an operation's constant operand
        arg = entries[0] if len(entries) == 1 else ("list", entries)
        return [arg] + extra, {}, needed

    def _release_plan(self):
        """For each plan step, the tensors no later step reads (and no output): freed after it,
        so a forward holds only live activations, as an eager PyTorch model does."""
        last = {}

        def mark(t, step):
            if t[0] == "t":
                last[t[1]] = step
            elif t[0] == "list":
                for e in t[1]:
                    mark(e, step)

        for step, (_, _, args, _) in enumerate(self.plan):
            for a in args:
                mark(a, step)
        release = [[] for _ in self.plan]
        for ref, step in last.items():
            if ref not in self.output_refs:
                release[step].append(ref)
        return release

    def forward(self, *inputs):
        values = {((name, 0), 0): x for name, x in zip(self.input_names, inputs)}

        def fill(t):
            if t[0] == "t":
                return values[t[1]]
            if t[0] == "list":
                return [fill(e) for e in t[1]]
            return t[1]

        if self.release is None:
            self.release = self._release_plan()
        for (key, node, args, _), done in zip(self.plan, self.release):
            out = self.layers[key](*[fill(a) for a in args])
            if isinstance(out, (list, tuple)):
                for i, o in enumerate(out):
                    values[(node, i)] = o
            else:
                values[(node, 0)] = out
            for ref in done:
                values.pop(ref, None)
        outs = [values[r] for r in self.output_refs]
        return outs[0] if len(outs) == 1 else outs


def first_node_index(layer):
    """The node index a layer's first saved call has in keras_history references.

    A nested model that owns its inputs starts with a node of its own (input to
    output) that the outer config leaves out: Keras 3 counts it for Functional
    models; Keras 2 (list-style nodes) also for a Sequential built on an input.
    """
    kind = short_class(layer)
    if kind in ("Functional", "Model"):
        return 1
    if kind != "Sequential":
        return 0
    nodes = layer.get("inbound_nodes", [])
    keras2 = bool(nodes) and isinstance(nodes[0], list)
    inner = layer["config"]["layers"] if isinstance(layer["config"], dict) else layer["config"]
    has_input = bool(inner) and (short_class(inner[0]) == "InputLayer" or "batch_input_shape" in inner[0]["config"]
                                 or "batch_shape" in inner[0]["config"])
    return 1 if keras2 and has_input else 0


def make_layer(layer, weights_of, where):
    kind = short_class(layer)
    cfg = layer.get("config", {})
    name = cfg.get("name") or layer.get("name")
    if kind in ("Sequential", "Functional", "Model"):
        return Graph(layer, nested_weights(weights_of, name), f"{where} (nested)")
    w = LayerWeights(weights_of(name), where)
    if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        return Conv2d(kind, cfg, w, where)
    if kind == "Dense":
        return Dense(cfg, w, where)
    if kind == "BatchNormalization":
        return BatchNorm(cfg, w, where)
    if kind == "LayerNormalization":
        return LayerNorm(cfg, w, where)
    if kind == "LayerScale":
        return Scale(tensor(w.take("gamma")), None)
    if kind == "Rescaling":
        scale, offset = cfg.get("scale", 1.0), cfg.get("offset", 0.0)
        as_t = lambda v: tensor(np.asarray(v, np.float32)) if isinstance(v, (list, tuple)) else v
        return Scale(as_t(scale), as_t(offset))
    if kind == "Normalization":
        return normalization(cfg, w, where)
    if kind == "ZeroPadding2D":
        return ZeroPad(cfg.get("padding", 1))
    if kind == "Cropping2D":
        return Crop(cfg.get("cropping", 0))
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        return Pool(kind, cfg)
    if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        if cfg.get("data_format", "channels_last") not in ("channels_last", None):
            raise UnsupportedModel(f"{where}: data_format {cfg['data_format']!r}")
        return GlobalPool(kind, cfg)
    if kind == "ReLU":
        return ReLU(cfg)
    if kind == "Activation":
        return Activation(cfg, where)
    if kind in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "TrueDivide", "Divide", "Power"):
        return Merge(kind, where)
    if kind == "Concatenate":
        return Concat(cfg)
    if kind == "Reshape":
        return Reshape(cfg["target_shape"])
    if kind == "Flatten":
        return Flatten()
    if kind in ("Dropout", "SpatialDropout2D", "GaussianDropout", "GaussianNoise", "StochasticDepth"):
        return Identity()
    raise UnsupportedModel(f"{where}: unsupported layer class {layer['class_name']!r}")


def nested_weights(weights_of, model_name):
    """The weights of a nested model's layers: its group's entries whose path names the inner layer."""
    items = weights_of(model_name, full_names=True)

    def lookup(layer_name, full_names=False):
        found = [(n if full_names else basename(n), a) for n, a in items if f"{layer_name}/" in "/" + n.split(":")[0]
                 and n.split("/")[-2] == layer_name]
        return found

    return lookup


class KerasModule(torch.nn.Module):
    """The model of a Keras-layout .h5 file: NHWC in, Keras's layout out."""

    def __init__(self, path):
        super().__init__()
        with h5py.File(path, "r") as f:
            if "model_config" not in f.attrs:
                raise UnsupportedModel(f"{path}: no model_config attribute (not a full-model .h5)")
            raw = f.attrs["model_config"]
            config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
            root = f["model_weights"] if "model_weights" in f else f
            groups = {}
            for name in root.keys():
                if isinstance(root[name], h5py.Group):
                    names = [n.decode() if isinstance(n, bytes) else str(n)
                             for n in root[name].attrs.get("weight_names", [])]
                    groups[name] = [(n, root[name][n][()]) for n in names]

        def weights_of(name, full_names=False):
            items = groups.get(name, [])
            return items if full_names else [(basename(n), a) for n, a in items]

        self.graph = Graph(config, weights_of, path)
        self.config = config

    def forward(self, x):
        return to_keras(self.graph(from_keras(x)))


# ---------------------------------------------------------------------------
# Checking against minidl and Keras.

def tolerance(y):
    return 1e-4 + 1e-3 * float(np.max(np.abs(y)))


def input_shape(config):
    """The model's input shape without the batch axis, from its config."""
    cfg = config["config"]
    for layer in cfg["layers"]:
        if short_class(layer) == "InputLayer":
            c = layer["config"]
            shape = c.get("batch_shape") or c.get("batch_input_shape")
            return list(shape[1:])
    first = cfg["layers"][0]["config"]
    shape = first.get("batch_shape") or first.get("batch_input_shape")
    return list(shape[1:])


def sample_input(config, batch=2, seed=0):
    """U[0, 1) inputs of the model's shape (seeded)."""
    return np.random.default_rng(seed).random([batch] + input_shape(config), dtype=np.float32)


def minidl_predict(minidl, model_path, x):
    with tempfile.TemporaryDirectory() as d:
        xin, yout = os.path.join(d, "x.h5"), os.path.join(d, "y.h5")
        with h5py.File(xin, "w") as f:
            f["x"] = x
        subprocess.run([minidl, "predict", model_path, "--input", xin + ":x", "--output", yout + ":y",
                        "--batch-size", str(len(x))], check=True, capture_output=True, text=True)
        with h5py.File(yout, "r") as f:
            return f["y"][()]


def io_file_for(model_path):
    io = os.path.splitext(model_path)[0] + ".io.h5"
    return io if os.path.exists(io) else None


def compare(y, reference):
    """How far torch's y is from a reference output. Passes when max|diff| is within
    1e-4 + 1e-3*max|reference| (the rule ../shared/keras-apps states) and within
    1e-3*max|reference| alone, and every row has the same argmax. The absolute term
    alone would pass any near-uniform 1000-class softmax or vanishing random-weight
    logits; the relative bound and the argmax are what a wrong network fails."""
    err = float(np.max(np.abs(y - reference)))
    scale = float(np.max(np.abs(reference)))
    same_argmax = bool(np.all(y.reshape(len(y), -1).argmax(1) == reference.reshape(len(y), -1).argmax(1)))
    return {"max_error": err, "tolerance": tolerance(reference), "relative": err / scale if scale else err,
            "argmax_equal": same_argmax,
            "ok": err <= tolerance(reference) and err <= 1e-3 * scale and same_argmax}


def without_output_softmax(path, out_path):
    """Copies model file `path` to `out_path` with the output layers' softmax made linear.

    Random-weight ImageNet models give a nearly uniform 1000-class softmax, which
    any network passes within 1e-4; their logits are what tells networks apart.
    Returns False when no output layer has a softmax (nothing to change).
    """
    with h5py.File(path, "r") as f:
        raw = f.attrs["model_config"]
    config = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    cfg = config["config"]
    if short_class(config) == "Sequential":
        outputs = [cfg["layers"][-1]] if isinstance(cfg, dict) else [cfg[-1]]
    else:
        spec = cfg["output_layers"]
        names = {spec[0]} if spec and isinstance(spec[0], str) else {r[0] for r in spec}
        outputs = [layer for layer in cfg["layers"] if (layer.get("name") or layer["config"]["name"]) in names]
    changed = False
    for layer in outputs:
        if layer["config"].get("activation") == "softmax":
            layer["config"]["activation"] = "linear"
            changed = True
    if changed:
        shutil.copyfile(path, out_path)
        with h5py.File(out_path, "r+") as f:
            f.attrs["model_config"] = json.dumps(config)
    return changed


def verify(model_path, module=None, minidl=None, io_path=None):
    """{reference: compare(...)} for minidl (when given) and Keras's y (io file).

    minidl is compared on the logits when the model ends in a softmax (a copy of
    the file without it), else on the output."""
    module = module or KerasModule(model_path)
    results = {}
    if io_path:
        with h5py.File(io_path, "r") as f:
            x, y_keras = f["x"][()], f["y"][()]
    else:
        x, y_keras = sample_input(module.config), None
    with torch.inference_mode():
        y_torch = module(torch.from_numpy(x)).numpy()
    if y_keras is not None:
        results["keras"] = compare(y_torch, y_keras)
    if minidl:
        with tempfile.TemporaryDirectory() as d:
            logits_path = os.path.join(d, "logits.h5")
            if without_output_softmax(model_path, logits_path):
                with torch.inference_mode():
                    y_torch = KerasModule(logits_path)(torch.from_numpy(x)).numpy()
                results["minidl logits"] = compare(y_torch, minidl_predict(minidl, logits_path, x))
            else:
                results["minidl"] = compare(y_torch, minidl_predict(minidl, model_path, x))
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="+", help="Keras-layout .h5 model files")
    p.add_argument("--minidl", default=os.path.join(os.path.dirname(__file__), "..", "build", "tools", "minidl"))
    p.add_argument("--no-minidl", action="store_true", help="compare with Keras's y only")
    p.add_argument("--io", help="an io file (datasets x, y) for a single model; default NAME.io.h5 beside it")
    args = p.parse_args()
    failed = False
    for path in args.models:
        io = args.io if args.io and len(args.models) == 1 else io_file_for(path)
        results = verify(path, minidl=None if args.no_minidl else args.minidl, io_path=io)
        for ref, r in results.items():
            failed |= not r["ok"]
            print(f"{os.path.basename(path)}: torch vs {ref}: max|diff| {r['max_error']:.3g} (tolerance "
                  f"{r['tolerance']:.3g}, relative {r['relative']:.2g}, argmax "
                  f"{'equal' if r['argmax_equal'] else 'DIFFERENT'}) {'ok' if r['ok'] else 'DIFFERENT'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
