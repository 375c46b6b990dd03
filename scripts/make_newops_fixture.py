#!/usr/bin/env python3
"""Writes lenet-runtime/tests/newops_fixture.json: forward and backward of
the second edition's layers as PyTorch computes them (float32, CPU), so that
lenet's specifications and kernels are checked against PyTorch itself:
grouped, depthwise, dilated and rectangular convolutions with and without
bias, padded max and average pooling, and BatchNorm1d/2d in training mode
with the running-statistics update.

    python3 scripts/make_newops_fixture.py
"""
import json
import pathlib

import torch

gen = torch.Generator().manual_seed(2024)


def randn(*shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float32)


def flat(t):
    return t.detach().reshape(-1).tolist()


def conv(name, ci, co, k, s, p, d, g, bias, h, w, n):
    layer = torch.nn.Conv2d(ci, co, k, stride=s, padding=p, dilation=d, groups=g, bias=bias)
    with torch.no_grad():
        layer.weight.copy_(randn(*layer.weight.shape))
        if bias:
            layer.bias.copy_(randn(co))
    x = randn(n, ci, h, w).requires_grad_()
    y = layer(x)
    dy = randn(*y.shape)
    y.backward(dy)
    return dict(
        name=name, kind="conv", n=n, x=flat(x), w=flat(layer.weight),
        b=flat(layer.bias) if bias else [], y=flat(y), dy=flat(dy), dx=flat(x.grad),
        dw=flat(layer.weight.grad), db=flat(layer.bias.grad) if bias else [],
    )


def pool(name, kind, c, k, s, p, h, w, n):
    layer = (torch.nn.MaxPool2d if kind == "max" else torch.nn.AvgPool2d)(k, stride=s, padding=p)
    # Values on a coarse grid: ties, which go to the first maximum.
    x = (randn(n, c, h, w) * 2).round().div(2).requires_grad_()
    y = layer(x)
    dy = randn(*y.shape)
    y.backward(dy)
    return dict(name=name, kind=kind, n=n, x=flat(x), y=flat(y), dy=flat(dy), dx=flat(x.grad))


def batch_norm(name, c, shape, momentum, eps):
    layer = (torch.nn.BatchNorm2d if len(shape) == 4 else torch.nn.BatchNorm1d)(
        c, eps=eps, momentum=momentum)
    with torch.no_grad():
        layer.weight.copy_(randn(c))
        layer.bias.copy_(randn(c))
        layer.running_mean.copy_(randn(c))
        layer.running_var.copy_(randn(c).abs() + 0.5)
    rm0, rv0 = flat(layer.running_mean), flat(layer.running_var)
    x = (randn(*shape) * 3 + 1).requires_grad_()
    y = layer(x)
    dy = randn(*y.shape)
    y.backward(dy)
    layer.eval()
    y_eval = layer(x)
    return dict(
        name=name, kind="batch_norm", n=shape[0], momentum=momentum, eps=eps,
        gamma=flat(layer.weight), beta=flat(layer.bias), running_mean0=rm0, running_var0=rv0,
        x=flat(x), y=flat(y), dy=flat(dy), dx=flat(x.grad), dgamma=flat(layer.weight.grad),
        dbeta=flat(layer.bias.grad), running_mean=flat(layer.running_mean),
        running_var=flat(layer.running_var), num_batches_tracked=int(layer.num_batches_tracked),
        y_eval=flat(y_eval),
    )


def main():
    cases = [
        conv("grouped_dilated", 4, 6, (3, 2), (1, 2), (1, 0), (2, 1), 2, True, 7, 8, 2),
        conv("dscnn_first", 1, 4, (10, 4), (2, 2), (5, 1), 1, 1, True, 49, 10, 1),
        conv("depthwise_s2_nobias", 3, 3, 3, 2, 1, 1, 3, False, 9, 10, 2),
        conv("depthwise_multiplier", 2, 6, 3, 1, 1, 1, 2, True, 6, 5, 3),
        conv("pointwise_nobias", 5, 3, 1, 1, 0, 1, 1, False, 4, 4, 2),
        pool("max_k3_s2_p1", "max", 2, 3, 2, 1, 9, 8, 2),
        pool("max_rect", "max", 2, (3, 2), (2, 1), (1, 1), 7, 6, 2),
        pool("avg_k3_s2_p1", "avg", 2, 3, 2, 1, 9, 8, 2),
        pool("avg_rect", "avg", 2, (2, 4), (1, 3), (1, 2), 5, 11, 2),
        batch_norm("bn2d", 3, (4, 3, 5, 6), 0.1, 1e-5),
        batch_norm("bn1d", 7, (5, 7), 0.3, 1e-3),
    ]
    out = pathlib.Path(__file__).resolve().parent.parent / "lenet-runtime/tests/newops_fixture.json"
    out.write_text(json.dumps(dict(torch=torch.__version__, cases=cases)) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
