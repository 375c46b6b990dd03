#!/usr/bin/env python3
"""Writes lenet-runtime/tests/optim_fixture.json: parameters after each of a
few steps of torch.optim.SGD and torch.optim.Adam (float32, CPU), so that
lenet's optimisers can be checked against PyTorch itself.

    python3 scripts/make_optim_fixture.py
"""
import json
import pathlib

import torch

CASES = [
    ("sgd", dict(lr=0.1)),
    ("sgd", dict(lr=0.05, momentum=0.9)),
    ("sgd", dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
    ("sgd", dict(lr=0.05, momentum=0.9, weight_decay=1e-3, nesterov=True)),
    ("sgd", dict(lr=0.1, momentum=0.5, dampening=0.3)),
    ("adam", dict(lr=1e-3)),
    ("adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
]
STEPS = 6
SIZE = 9


def main():
    gen = torch.Generator().manual_seed(1998)
    cases = []
    for kind, kw in CASES:
        p0 = torch.randn(SIZE, generator=gen, dtype=torch.float32)
        grads = [torch.randn(SIZE, generator=gen, dtype=torch.float32) for _ in range(STEPS)]
        # One step with an exactly zero gradient, to check the state carries on.
        grads[3] = torch.zeros(SIZE)
        p = torch.nn.Parameter(p0.clone())
        opt = (torch.optim.SGD if kind == "sgd" else torch.optim.Adam)([p], foreach=False, **kw)
        after = []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            after.append(p.detach().tolist())
        cases.append(dict(
            optimizer=kind,
            options={k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()},
            params=p0.tolist(),
            grads=[g.tolist() for g in grads],
            after=after,
        ))
    out = pathlib.Path(__file__).resolve().parent.parent / "lenet-runtime" / "tests" / "optim_fixture.json"
    out.write_text(json.dumps(dict(torch=torch.__version__, cases=cases), indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
