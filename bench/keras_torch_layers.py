"""keras_torch_layers.py: the Keras layers bench/keras_to_torch.py builds, as torch modules (inference only).

Layout: a rank-4 tensor lives as NCHW inside the modules, every other rank in
Keras's layout; layers that address an axis map Keras's channels-last axis to
the NCHW one. Keras's "same" padding is TensorFlow's: when the total padding
of an axis is odd (stride 2 on an even size) the extra row/column goes
bottom/right, done with an explicit F.pad. Semantics follow Keras 3.15's
layer and activation definitions (keras/src/layers, keras/src/activations).
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

# Keras's backend.epsilon(): Normalization's floor on the standard deviation.
KERAS_EPSILON = 1e-7


class UnsupportedModel(ValueError):
    pass


# ---------------------------------------------------------------------------
# Layout helpers: rank-4 tensors are NCHW inside, NHWC in Keras.

def to_keras(t):
    return t.permute(0, 2, 3, 1) if t.dim() == 4 else t


def from_keras(t):
    return t.permute(0, 3, 1, 2).contiguous() if t.dim() == 4 else t


def torch_axis(axis, rank):
    """The torch dimension of Keras axis `axis` of a rank-`rank` tensor."""
    axis = axis % rank
    if rank != 4:
        return axis
    return {0: 0, 1: 2, 2: 3, 3: 1}[axis]


def as_pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def same_pads(size, kernel, stride, dilation):
    """TensorFlow's SAME padding of one axis: (before, after), the extra one after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def pad_same(x, kernel, strides, dilation, value=0.0):
    """Pads H and W of an NCHW tensor as TF's SAME; returns (x, symmetric padding or None)."""
    ph = same_pads(x.shape[2], kernel[0], strides[0], dilation[0])
    pw = same_pads(x.shape[3], kernel[1], strides[1], dilation[1])
    if ph[0] == ph[1] and pw[0] == pw[1]:
        return x, (ph[0], pw[0])
    return F.pad(x, (pw[0], pw[1], ph[0], ph[1]), value=value), (0, 0)


# ---------------------------------------------------------------------------
# Activations by Keras name.

def _softmax(x, axis=-1):
    return F.softmax(x, dim=torch_axis(axis, x.dim()))


ACTIVATIONS = {
    "linear": lambda x: x,
    None: lambda x: x,
    "relu": F.relu,
    "relu6": F.relu6,
    "softmax": _softmax,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "swish": F.silu,
    "silu": F.silu,
    "hard_sigmoid": F.hardsigmoid,  # Keras 3: relu6(x + 3) / 6
    "hard_silu": F.hardswish,
    "hard_swish": F.hardswish,
    "gelu": lambda x: F.gelu(x),  # keras.activations.gelu: approximate=False
    "elu": F.elu,
    "selu": F.selu,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "exponential": torch.exp,
}


def activation(spec, where):
    if isinstance(spec, dict):  # a serialized activation: {"class_name": ..., "config": ...}
        name = spec.get("config", {}).get("name", spec.get("class_name"))
    else:
        name = spec
    if name not in ACTIVATIONS:
        raise UnsupportedModel(f"{where}: unsupported activation {name!r}")
    return ACTIVATIONS[name]


# ---------------------------------------------------------------------------
# Layers. Each is an nn.Module whose forward takes the call's positional
# arguments (tensors, lists of tensors, or constants).

class Identity(torch.nn.Module):
    def forward(self, x, *rest):
        return x


class Conv2d(torch.nn.Module):
    """Conv2D, DepthwiseConv2D and SeparableConv2D (depthwise then 1x1 pointwise)."""

    def __init__(self, kind, cfg, w, where):
        super().__init__()
        if cfg.get("data_format", "channels_last") not in ("channels_last", None):
            raise UnsupportedModel(f"{where}: data_format {cfg['data_format']!r}")
        self.kernel_size = as_pair(cfg["kernel_size"])
        self.strides = as_pair(cfg.get("strides", 1))
        self.dilation = as_pair(cfg.get("dilation_rate", 1))
        self.same = cfg.get("padding", "valid") == "same"
        if cfg.get("padding", "valid") not in ("same", "valid"):
            raise UnsupportedModel(f"{where}: padding {cfg['padding']!r}")
        self.act = activation(cfg.get("activation", "linear"), where)
        self.pointwise = None
        if kind == "Conv2D":
            self.groups = cfg.get("groups", 1)
            self.register_buffer("weight", tensor(w.take("kernel")).permute(3, 2, 0, 1).contiguous())
        else:
            depthwise = tensor(w.take("depthwise_kernel"))  # (kh, kw, cin, multiplier)
            kh, kw, cin, mult = depthwise.shape
            self.groups = cin
            self.register_buffer("weight", depthwise.permute(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw).contiguous())
            if kind == "SeparableConv2D":
                self.pointwise = tensor(w.take("pointwise_kernel")).permute(3, 2, 0, 1).contiguous()
        bias = w.take("bias") if cfg.get("use_bias", True) else None
        self.register_buffer("bias", None if bias is None else tensor(bias))

    def forward(self, x):
        padding = (0, 0)
        if self.same:
            x, padding = pad_same(x, self.kernel_size, self.strides, self.dilation)
        if self.pointwise is None:
            y = F.conv2d(x, self.weight, self.bias, self.strides, padding, self.dilation, self.groups)
        else:
            y = F.conv2d(x, self.weight, None, self.strides, padding, self.dilation, self.groups)
            y = F.conv2d(y, self.pointwise, self.bias)
        return self.act(y)


class Dense(torch.nn.Module):
    def __init__(self, cfg, w, where):
        super().__init__()
        self.register_buffer("weight", tensor(w.take("kernel")).t().contiguous())
        self.register_buffer("bias", tensor(w.take("bias")) if cfg.get("use_bias", True) else None)
        self.act = activation(cfg.get("activation", "linear"), where)

    def forward(self, x):
        if x.dim() == 4:  # Dense acts on Keras's last axis: the channels
            return self.act(from_keras(F.linear(to_keras(x), self.weight, self.bias)))
        return self.act(F.linear(x, self.weight, self.bias))


def keras_axes(cfg_axis):
    return list(cfg_axis) if isinstance(cfg_axis, (list, tuple)) else [cfg_axis]


def broadcast_to(v, axes, rank):
    """Reshapes a per-axis parameter (Keras shape: the sizes of `axes`) to broadcast over a torch tensor."""
    shape = [1] * rank
    dims = sorted(torch_axis(a, rank) for a in axes)
    for d, n in zip(dims, v.shape if v.dim() == len(dims) else [v.numel()]):
        shape[d] = n
    if len(dims) > 1 and rank == 4:  # several axes: the parameter is in Keras's order
        v = from_keras(v.reshape([1] * (4 - v.dim()) + list(v.shape)))
        return v
    return v.reshape(shape)


class BatchNorm(torch.nn.Module):
    def __init__(self, cfg, w, where):
        super().__init__()
        axes = keras_axes(cfg.get("axis", -1))
        if len(axes) != 1:
            raise UnsupportedModel(f"{where}: BatchNormalization over axes {axes}")
        self.axis = axes[0]
        self.eps = cfg.get("epsilon", 1e-3)
        self.register_buffer("gamma", tensor(w.take("gamma")) if cfg.get("scale", True) else None)
        self.register_buffer("beta", tensor(w.take("beta")) if cfg.get("center", True) else None)
        self.register_buffer("mean", tensor(w.take("moving_mean")))
        self.register_buffer("var", tensor(w.take("moving_variance")))

    def forward(self, x):
        if torch_axis(self.axis, x.dim()) == 1:
            return F.batch_norm(x, self.mean, self.var, self.gamma, self.beta, False, 0.0, self.eps)
        shape = [1] * x.dim()
        shape[torch_axis(self.axis, x.dim())] = -1
        y = (x - self.mean.reshape(shape)) * torch.rsqrt(self.var.reshape(shape) + self.eps)
        if self.gamma is not None:
            y = y * self.gamma.reshape(shape)
        if self.beta is not None:
            y = y + self.beta.reshape(shape)
        return y


class LayerNorm(torch.nn.Module):
    def __init__(self, cfg, w, where):
        super().__init__()
        self.axes = keras_axes(cfg.get("axis", -1))
        self.eps = cfg.get("epsilon", 1e-3)
        self.rms = cfg.get("rms_scaling", False)
        self.register_buffer("gamma", tensor(w.take("gamma")) if cfg.get("scale", True) or self.rms else None)
        self.register_buffer("beta", tensor(w.take("beta")) if cfg.get("center", True) and not self.rms else None)

    def forward(self, x):
        rank = x.dim()
        if not self.rms and [a % rank for a in self.axes] == [rank - 1]:
            shape = (x.shape[torch_axis(-1, rank)],)
            if rank == 4:
                return from_keras(F.layer_norm(to_keras(x), shape, self.gamma, self.beta, self.eps))
            return F.layer_norm(x, shape, self.gamma, self.beta, self.eps)
        dims = [torch_axis(a, rank) for a in self.axes]
        var, mean = torch.var_mean(x, dim=dims, unbiased=False, keepdim=True)
        inv = torch.rsqrt(var + self.eps)
        y = x * inv if self.rms else (x - mean) * inv
        if self.gamma is not None:
            y = y * broadcast_to(self.gamma, self.axes, rank)
        if self.beta is not None:
            y = y + broadcast_to(self.beta, self.axes, rank)
        return y


class Scale(torch.nn.Module):
    """x * scale + offset with Keras-shaped per-channel or scalar parameters (Rescaling, LayerScale, Normalization)."""

    def __init__(self, scale, offset, axes=(-1,)):
        super().__init__()
        self.scale, self.offset, self.axes = scale, offset, axes

    def _param(self, v, rank):
        if isinstance(v, torch.Tensor) and v.numel() > 1:
            return broadcast_to(v.reshape(-1) if len(self.axes) == 1 else v, self.axes, rank)
        return float(v) if not isinstance(v, torch.Tensor) else float(v.reshape(-1)[0])

    def forward(self, x):
        y = x * self._param(self.scale, x.dim())
        return y if self.offset is None else y + self._param(self.offset, x.dim())


def normalization(cfg, w, where):
    axes = keras_axes(cfg.get("axis", -1)) if cfg.get("axis", -1) is not None else []
    if cfg.get("mean") is not None:
        mean, var = tensor(np.asarray(cfg["mean"], np.float32)), tensor(np.asarray(cfg["variance"], np.float32))
    else:
        mean, var = tensor(w.take("mean")), tensor(w.take("variance"))
    std = torch.clamp(torch.sqrt(var), min=KERAS_EPSILON)
    if cfg.get("invert", False):
        return Scale(std, mean, axes)
    return Scale(1.0 / std, -mean / std, axes)


class ZeroPad(torch.nn.Module):
    def __init__(self, padding):
        super().__init__()
        (t, b), (l, r) = [as_pair(p) for p in (padding if isinstance(padding, (list, tuple)) else [padding] * 2)]
        self.pad = (l, r, t, b)

    def forward(self, x):
        return F.pad(x, self.pad)


class Crop(torch.nn.Module):
    def __init__(self, cropping):
        super().__init__()
        (self.t, self.b), (self.l, self.r) = [
            as_pair(c) for c in (cropping if isinstance(cropping, (list, tuple)) else [cropping] * 2)]

    def forward(self, x):
        return x[:, :, self.t:x.shape[2] - self.b, self.l:x.shape[3] - self.r]


class Pool(torch.nn.Module):
    def __init__(self, kind, cfg):
        super().__init__()
        self.max = kind == "MaxPooling2D"
        self.kernel = as_pair(cfg.get("pool_size", 2))
        self.strides = as_pair(cfg.get("strides") or self.kernel)
        self.same = cfg.get("padding", "valid") == "same"

    def forward(self, x):
        if not self.same:
            f = F.max_pool2d if self.max else F.avg_pool2d
            return f(x, self.kernel, self.strides)
        if self.max:  # TF pads with -inf: padding never wins the max
            x, pad = pad_same(x, self.kernel, self.strides, (1, 1), value=-math.inf)
            return F.max_pool2d(x, self.kernel, self.strides, pad)
        # TF's SAME average counts only the real pixels under the window.
        padded, pad = pad_same(x, self.kernel, self.strides, (1, 1))
        if padded is x:
            return F.avg_pool2d(x, self.kernel, self.strides, pad, count_include_pad=False)
        ones, _ = pad_same(torch.ones_like(x[:1, :1]), self.kernel, self.strides, (1, 1))
        return F.avg_pool2d(padded, self.kernel, self.strides) / F.avg_pool2d(ones, self.kernel, self.strides)


class GlobalPool(torch.nn.Module):
    def __init__(self, kind, cfg):
        super().__init__()
        self.max = kind.startswith("GlobalMax")
        self.keepdims = cfg.get("keepdims", False)

    def forward(self, x):
        y = torch.amax(x, dim=(2, 3), keepdim=True) if self.max else torch.mean(x, dim=(2, 3), keepdim=True)
        return y if self.keepdims else y.flatten(1)


class ReLU(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.max_value = cfg.get("max_value")
        self.slope = cfg.get("negative_slope", 0.0) or 0.0
        self.threshold = cfg.get("threshold", 0.0) or 0.0

    def forward(self, x):
        if self.slope == 0 and self.threshold == 0:
            return F.relu6(x) if self.max_value == 6 else (
                F.relu(x) if self.max_value is None else torch.clamp(x, 0, self.max_value))
        y = torch.where(x >= self.threshold, x, self.slope * (x - self.threshold))
        return y if self.max_value is None else torch.clamp(y, max=self.max_value)


class Activation(torch.nn.Module):
    def __init__(self, cfg, where):
        super().__init__()
        self.f = activation(cfg["activation"], where)

    def forward(self, x):
        return self.f(x)


def operand(v, like_rank):
    """A constant operand of an operation layer, laid out for tensors of rank `like_rank`."""
    if isinstance(v, torch.Tensor):
        return v
    if isinstance(v, dict):  # a serialized array: {"class_name": "__numpy__", "config": {"value": ...}}
        v = v.get("config", {}).get("value", v)
    a = np.asarray(v, np.float32)
    if a.ndim == 0:
        return float(a)
    t = torch.from_numpy(a)
    if like_rank == 4:
        t = from_keras(t.reshape([1] * (4 - t.dim()) + list(t.shape)))
    return t


BINARY = {
    "Add": torch.add, "Subtract": torch.sub, "Multiply": torch.mul, "TrueDivide": torch.true_divide,
    "Divide": torch.true_divide, "Maximum": torch.maximum, "Minimum": torch.minimum, "Power": torch.pow,
}


class Merge(torch.nn.Module):
    """Add / Subtract / Multiply / Average / Maximum / Minimum layers (a list of tensors) and the
    Keras 3 operations saved as layers (two operands, tensors or constants)."""

    def __init__(self, kind, where):
        super().__init__()
        self.kind, self.where = kind, where

    def forward(self, *args):
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            xs = list(args[0])
            if self.kind == "Average":
                return sum(xs[1:], xs[0]) / len(xs)
            if self.kind == "Subtract":
                return xs[0] - xs[1]
            y = xs[0]
            for t in xs[1:]:
                y = BINARY[self.kind](y, t)
            return y
        if len(args) != 2:
            raise UnsupportedModel(f"{self.where}: {self.kind} called with {len(args)} operands")
        rank = max(a.dim() for a in args if isinstance(a, torch.Tensor))
        a, b = (operand(v, rank) for v in args)
        f = BINARY[self.kind]
        if not isinstance(a, torch.Tensor):
            a = torch.tensor(a, dtype=torch.float32)
        return f(a, b)


class Concat(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.axis = cfg.get("axis", -1)

    def forward(self, xs):
        return torch.cat(list(xs), dim=torch_axis(self.axis, xs[0].dim()))


class Reshape(torch.nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = list(target)

    def forward(self, x):
        return from_keras(to_keras(x).reshape([x.shape[0]] + self.target))


class Flatten(torch.nn.Module):
    def forward(self, x):
        return to_keras(x).reshape(x.shape[0], -1)


# ---------------------------------------------------------------------------
# Weights: the datasets of one layer, by their Keras names.

def tensor(a):
    return torch.from_numpy(np.ascontiguousarray(np.asarray(a, dtype=np.float32)))


class LayerWeights:
    """The weights of one layer, looked up by name ("kernel", "moving_mean", ...)."""

    def __init__(self, items, where):
        self.items, self.where, self.used = items, where, set()

    def take(self, name):
        for i, (n, a) in enumerate(self.items):
            if n == name and i not in self.used:
                self.used.add(i)
                return a
        unused = [i for i in range(len(self.items)) if i not in self.used]
        if len(self.items) == 1 and unused:  # a single unnamed weight (LayerScale's gamma)
            self.used.add(unused[0])
            return self.items[unused[0]][1]
        raise UnsupportedModel(f"{self.where}: no weight {name!r} among {[n for n, _ in self.items]}")


def basename(name):
    return name.split("/")[-1].split(":")[0]
