"""PyTorch peer of the engine's LIF layer: the same model a user would write in PyTorch, on the same GPU.

Dense forward (x @ W_in + s @ W_rec per step, as PyTorch users write it) and a full-BPTT training step
with the SuperSpike surrogate through autograd. Prints and writes flat JSON figures.
Usage: python3 lif_pytorch_peer.py OUT.json [EXPORT_DIR]
With EXPORT_DIR (written by GpuBenchmark: weights, inputs and Spillway's BPTT gradients of one window),
the peer runs on exactly those weights and inputs and reports the relative error of Spillway's gradients
against PyTorch autograd.
"""
import os
import json
import sys
import time

import torch

HIDDEN, BATCH, INPUTS, STEPS = 1024, 64, 64, 256
ALPHA, GAIN, THETA, BETA = 0.9, 10.0, 1.0, 10.0


class SpikeFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v):
        ctx.save_for_backward(v)
        return (v > THETA).float()

    @staticmethod
    def backward(ctx, grad):
        (v,) = ctx.saved_tensors
        return grad / (BETA * (v - THETA).abs() + 1.0) ** 2


def run(win, wrec, bias, inputs, train):
    v = torch.zeros(BATCH, HIDDEN, device="cuda")
    s = torch.zeros(BATCH, HIDDEN, device="cuda")
    total = 0.0
    spikes = 0.0
    for t in range(STEPS):
        x = torch.nn.functional.one_hot(inputs[t], INPUTS).float()
        current = x @ win + s @ wrec + bias
        v = ALPHA * v * (1.0 - s.detach()) + (1.0 - ALPHA) * GAIN * current
        s = SpikeFn.apply(v) if train else (v > THETA).float()
        total = total + s.mean()
        spikes = spikes + s.detach().mean()
    if train:
        total.backward()
    return float(spikes) / STEPS


def timed(fn, repeats=5):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def load(export, name, dtype, shape):
    import numpy as np
    data = np.fromfile(os.path.join(export, name), dtype=dtype).reshape(shape)
    return torch.from_numpy(data).cuda()


def rel_error(ours, ref):
    return float((ours - ref).norm() / ref.norm())


def main():
    torch.backends.cuda.matmul.allow_tf32 = False  # plain fp32, like the engine's pedantic cuBLAS mode
    torch.manual_seed(42)
    export = sys.argv[2] if len(sys.argv) > 2 else None
    if export:
        win = load(export, "win.f32", "<f4", (INPUTS, HIDDEN)).requires_grad_()
        wrec = load(export, "wrec.f32", "<f4", (HIDDEN, HIDDEN)).requires_grad_()
        bias = load(export, "bias.f32", "<f4", (HIDDEN,)).requires_grad_()
        inputs = load(export, "ids.i32", "<i4", (STEPS, BATCH)).long()
    else:
        win = (torch.randn(INPUTS, HIDDEN, device="cuda") * 0.4).requires_grad_()
        wrec = (torch.randn(HIDDEN, HIDDEN, device="cuda") * 0.05).requires_grad_()
        bias = (torch.randn(HIDDEN, device="cuda") * 0.08).requires_grad_()
        inputs = torch.randint(0, INPUTS, (STEPS, BATCH), device="cuda")
    with torch.no_grad():
        activity = run(win, wrec, bias, inputs, False)
        fwd = timed(lambda: run(win, wrec, bias, inputs, False))
    train = timed(lambda: run(win, wrec, bias, inputs, True))
    extra = {}
    if export:
        for p in (win, wrec, bias):
            p.grad = None
        run(win, wrec, bias, inputs, True)
        extra = {
            "grad_rel_error_vs_pytorch_wrec": round(rel_error(load(export, "grad_wrec.f32", "<f4", (HIDDEN, HIDDEN)), wrec.grad), 8),
            "grad_rel_error_vs_pytorch_win": round(rel_error(load(export, "grad_win.f32", "<f4", (INPUTS, HIDDEN)), win.grad), 8),
            "grad_rel_error_vs_pytorch_bias": round(rel_error(load(export, "grad_bias.f32", "<f4", (HIDDEN,)), bias.grad), 8),
        }
    figures = {
        "pytorch_version": torch.__version__,
        "pytorch_activity": round(activity, 4),
        "steps_per_s_forward_pytorch": round(STEPS / fwd, 1),
        "steps_per_s_pytorch": round(STEPS / train, 1),
        **extra,
    }
    print(json.dumps(figures, indent=2))
    with open(sys.argv[1], "w") as f:
        json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
