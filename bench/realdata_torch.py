#!/usr/bin/python3
"""PyTorch peer of Spillway's learner for the realdata benchmark.

The same spiking RNN as gpu-engine's LifWindow (LIF with hard reset, SuperSpike surrogate, linear readout of
the top layer's membrane, cross-entropy on the next event type), trained prequentially with truncated BPTT
on exactly the batches Spillway trained (the schedule file written by the benchmark), from Spillway's
initial parameters, with torch.optim.Adam at the same learning rate. Prints one JSON object.

Files (little-endian):
  schedule: int32 magic 0x53505742, int32 vocab; then per batch: int32 chunks; per chunk: int32 key id,
            int32 length, uint8[length] event types
  params:   int32 magic 0x53505750, int32 tensors; per tensor: int32 name length, name (UTF-8),
            int32 values, float32[values]
"""
import argparse
import json
import os
import struct
import time

import numpy as np
import torch

SCHEDULE_MAGIC = 0x53505742
PARAMS_MAGIC = 0x53505750


def read_schedule(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, vocab = struct.unpack_from("<ii", data, 0)
    if magic != SCHEDULE_MAGIC:
        raise SystemExit("not a schedule file: " + path)
    pos = 8
    batches = []
    while pos < len(data):
        (n,) = struct.unpack_from("<i", data, pos)
        pos += 4
        batch = []
        for _ in range(n):
            key, length = struct.unpack_from("<ii", data, pos)
            pos += 8
            batch.append((key, np.frombuffer(data, dtype=np.uint8, count=length, offset=pos).astype(np.int64)))
            pos += length
        batches.append(batch)
    return vocab, batches


def read_params(path):
    out = {}
    with open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack_from("<ii", data, 0)
    if magic != PARAMS_MAGIC:
        raise SystemExit("not a parameter file: " + path)
    pos = 8
    for _ in range(count):
        (nl,) = struct.unpack_from("<i", data, pos)
        pos += 4
        name = data[pos:pos + nl].decode("utf-8")
        pos += nl
        (nv,) = struct.unpack_from("<i", data, pos)
        pos += 4
        out[name] = np.frombuffer(data, dtype="<f4", count=nv, offset=pos).copy()
        pos += 4 * nv
    return out


class Spike(torch.autograd.Function):
    """Heaviside(V - theta) forward; SuperSpike surrogate 1 / (beta |V - theta| + 1)^2 backward."""

    @staticmethod
    def forward(ctx, v, theta, beta):
        ctx.save_for_backward(v)
        ctx.theta = theta
        ctx.beta = beta
        return (v > theta).to(v.dtype)

    @staticmethod
    def backward(ctx, grad):
        (v,) = ctx.saved_tensors
        d = ctx.beta * (v - ctx.theta).abs() + 1.0
        return grad / (d * d), None, None


class SpikingRnn(torch.nn.Module):
    def __init__(self, vocab, hidden, layers, init):
        super().__init__()
        self.vocab, self.hidden, self.layers = vocab, hidden, layers
        p = {}
        for l in range(layers):
            rows = vocab if l == 0 else hidden
            p["layer%d.w_in" % l] = (rows, hidden)
            p["layer%d.w_rec" % l] = (hidden, hidden)
            p["layer%d.bias" % l] = (hidden,)
        p["readout.w"] = (vocab, hidden)
        p["readout.bias"] = (vocab,)
        self.names = list(p)
        self.params = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.from_numpy(init[k].reshape(s))) for k, s in p.items()])

    def tensor(self, name):
        return self.params[self.names.index(name)]

    def window(self, x, mask, v0, s0, alpha, drive, theta, beta):
        """x: (T, B) event types; mask: (T, B) active steps; v0, s0: per layer (B, n). Returns logits (T, B, V) and end states."""
        v, s = list(v0), list(s0)
        logits = []
        w_out, b_out = self.tensor("readout.w"), self.tensor("readout.bias")
        for t in range(x.shape[0]):
            m = mask[t].unsqueeze(1)
            below = None
            for l in range(self.layers):
                w_in = self.tensor("layer%d.w_in" % l)
                a = self.tensor("layer%d.bias" % l) + (w_in[x[t]] if l == 0 else below @ w_in) + s[l] @ self.tensor("layer%d.w_rec" % l)
                vn = alpha * v[l] * (1.0 - s[l].detach()) + drive * a  # hard reset; the mask is stop-gradient
                sn = Spike.apply(vn, theta, beta)
                v[l] = torch.where(m, vn, v[l])
                s[l] = torch.where(m, sn, s[l])
                below = s[l]
            logits.append(v[-1] @ w_out.t() + b_out)
        return torch.stack(logits), v, s


def vm_hwm_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schedule", required=True)
    ap.add_argument("--params", required=True)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--alpha", type=float, default=0.9)
    ap.add_argument("--gain", type=float, default=10.0)
    ap.add_argument("--beta", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    vocab, batches = read_schedule(args.schedule)
    model = SpikingRnn(vocab, args.hidden, args.layers, read_params(args.params))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    drive = (1.0 - args.alpha) * args.gain
    n = args.hidden
    carried = {}  # key -> (v list, s list, pending event type)
    targets = correct = steps = 0
    loss_sum = 0.0
    first_loss = float("nan")
    train_s = 0.0
    cpu0 = time.process_time()
    for batch in batches:
        t0 = time.perf_counter()
        seqs, keys, starts = [], [], []
        for key, ev in batch:
            c = carried.get(key)
            seq = ev if c is None else np.concatenate(([c[2]], ev))
            if len(seq) < 2:  # a key's first single event only primes it
                carried[key] = (c[0], c[1], int(seq[-1])) if c is not None else (None, None, int(seq[-1]))
                continue
            seqs.append(seq)
            keys.append(key)
            starts.append(c)
        if not seqs:
            train_s += time.perf_counter() - t0
            continue
        b = len(seqs)
        steps_max = max(len(q) - 1 for q in seqs)
        x = torch.zeros(steps_max, b, dtype=torch.long)
        y = torch.full((steps_max, b), -100, dtype=torch.long)
        mask = torch.zeros(steps_max, b, dtype=torch.bool)
        for j, q in enumerate(seqs):
            k = len(q) - 1
            x[:k, j] = torch.from_numpy(q[:-1])
            y[:k, j] = torch.from_numpy(q[1:])
            mask[:k, j] = True
        v0, s0 = [], []
        for l in range(args.layers):
            v0.append(torch.stack([c[0][l] if c is not None and c[0] is not None else torch.zeros(n) for c in starts]))
            s0.append(torch.stack([c[1][l] if c is not None and c[1] is not None else torch.zeros(n) for c in starts]))
        logits, v_end, s_end = model.window(x, mask, v0, s0, args.alpha, drive, 1.0, args.beta)
        flat = logits.reshape(-1, vocab)
        per = torch.nn.functional.cross_entropy(flat, y.reshape(-1), ignore_index=-100, reduction="none")
        count = int(mask.sum())
        loss = per.sum() / count
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            valid = y.reshape(-1) >= 0
            correct += int((flat.argmax(dim=1)[valid] == y.reshape(-1)[valid]).sum())
            batch_loss = float(per[valid].double().sum())
        for j, key in enumerate(keys):
            carried[key] = ([v[j].detach().clone() for v in v_end], [s[j].detach().clone() for s in s_end], int(seqs[j][-1]))
        train_s += time.perf_counter() - t0
        if steps == 0:
            first_loss = batch_loss / count
        steps += 1
        targets += count
        loss_sum += batch_loss
    print(json.dumps({
        "targets": targets, "steps": steps, "loss_nats": loss_sum / max(targets, 1),
        "bits_per_event": loss_sum / max(targets, 1) / np.log(2), "accuracy": correct / max(targets, 1),
        "first_step_loss_nats": first_loss, "train_seconds": train_s, "cpu_seconds": time.process_time() - cpu0,
        "events_per_s": targets / train_s if train_s > 0 else float("nan"),
        "peak_rss_bytes": vm_hwm_bytes(), "threads": args.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
