#!/usr/bin/python3
"""PyTorch peers of Spillway's learner for the realdata benchmark.

Both train prequentially (each target's loss is taken from the forward pass before the batch's update) with
truncated BPTT on exactly the batches Spillway trained (the schedule file written by the benchmark), carrying
each key's recurrent state and last event from one chunk to the key's next, with torch.optim.Adam.

  --model lif  the same spiking RNN as gpu-engine's LifWindow (LIF with hard reset, SuperSpike surrogate,
               linear readout of the top layer's membrane), from Spillway's initial parameters (--params), so
               its first-step loss matches Spillway's.
  --model egru the same event-based GRU as gpu-engine's EgruWindow (gates update | reset | candidate in the
               reset-after form, threshold crossing with subtractive reset, graded events, the Heaviside's
               backward the triangle pseudo-derivative, the activity regulariser, a readout over all layers),
               from Spillway's initial parameters (--params, thresholds included), with Spillway's Adam and
               global-norm clipping, so its first-step loss matches Spillway's and its run follows closely.
  --model gru  torch.nn.GRU of the same width over one-hot event types and a linear readout, PyTorch's own
               initialisation (seeded): the model a user would pick instead.

--lr takes one learning rate or a comma-separated grid; each grid point is a separate run from the same
initial parameters, the best (lowest bits/event) is reported at the top level and every point under "grid".
Prints one JSON object.

Files (little-endian):
  schedule: int32 magic 0x53505742, int32 vocab; then per batch: int32 chunks; per chunk: int32 key id,
            int32 length, uint8[length] event types
  params:   int32 magic 0x53505750, int32 tensors; per tensor: int32 name length, name (UTF-8),
            int32 values, float32[values]
"""
import argparse
import json
import math
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
    """The LIF peer. State: (membranes, spikes), each (layers, batch, hidden)."""

    def __init__(self, vocab, hidden, layers, init, alpha, gain, beta):
        super().__init__()
        self.vocab, self.hidden, self.layers = vocab, hidden, layers
        self.alpha, self.drive, self.beta = alpha, (1.0 - alpha) * gain, beta
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

    def zero_state(self):
        return (torch.zeros(self.layers, self.hidden), torch.zeros(self.layers, self.hidden))

    def window(self, x, mask, lengths, state):
        """x: (T, B) event types; mask: (T, B) active steps. Returns logits (T, B, V) and the end state."""
        v, s = list(state[0].unbind(0)), list(state[1].unbind(0))
        logits = []
        w_out, b_out = self.tensor("readout.w"), self.tensor("readout.bias")
        for t in range(x.shape[0]):
            m = mask[t].unsqueeze(1)
            below = None
            for l in range(self.layers):
                w_in = self.tensor("layer%d.w_in" % l)
                a = self.tensor("layer%d.bias" % l) + (w_in[x[t]] if l == 0 else below @ w_in) + s[l] @ self.tensor("layer%d.w_rec" % l)
                vn = self.alpha * v[l] * (1.0 - s[l].detach()) + self.drive * a  # hard reset; the mask is stop-gradient
                sn = Spike.apply(vn, 1.0, self.beta)
                v[l] = torch.where(m, vn, v[l])
                s[l] = torch.where(m, sn, s[l])
                below = s[l]
            logits.append(v[-1] @ w_out.t() + b_out)
        return torch.stack(logits), (torch.stack(v), torch.stack(s))


class Heaviside(torch.autograd.Function):
    """H(c-hat - theta) forward, H(0) = 0; backward the pseudo-derivative kappa max(0, 1 - kappa |c-hat - theta|)
    (gpu-engine's EgruWindow.pseudoDerivative), into c-hat and, negated, into theta."""

    @staticmethod
    def forward(ctx, chat, theta, kappa):
        ctx.save_for_backward(chat, theta)
        ctx.kappa = kappa
        return (chat > theta).to(chat.dtype)

    @staticmethod
    def backward(ctx, grad):
        chat, theta = ctx.saved_tensors
        k = ctx.kappa
        g = grad * (k * torch.clamp(1.0 - k * (chat - theta).abs(), min=0.0))
        return g, ((-g).sum_to_size(theta.shape) if ctx.needs_input_grad[1] else None), None


class EgruPeer(torch.nn.Module):
    """The EGRU twin. State: (c-hat, o), each (layers, batch, hidden): the pre-reset cell states and the events
    (0/1) of the last step, as gpu-engine's EgruState keeps them (c = c-hat - theta o and y = c-hat o follow).

    Per layer l and step t (gate blocks update | reset | candidate, as EgruParameters lays them out):
      Wx = bias_in + W_in x_t  (x_t: one-hot event type for layer 0, else y_t of layer l-1)
      Rh = bias_rec + W_rec y_{t-1}
      u = sigmoid(Wx_u + Rh_u), r = sigmoid(Wx_r + Rh_r), g = tanh(Wx_g + r Rh_g)
      c-hat_t = u (c-hat_{t-1} - theta o_{t-1}) + (1 - u) g,  o_t = H(c-hat_t - theta),  y_t = c-hat_t o_t
      logits = W_out [f^0; ...; f^{L-1}] + b_out,  f = c-hat (readout cell) or y (readout events)
    and the activity regulariser lambda sum_{t,l,b} (mean_i o - target)^2, added to the summed cross-entropy
    before both are divided by the batch's targets (self.penalty holds it after window()). Autograd through all
    of it is the engine's sparse backward: the gradient meets o only where the pseudo-derivative is non-zero.
    """

    def __init__(self, vocab, hidden, layers, init, kappa, activity_target, activity_lambda, readout,
                 learn_thresholds):
        super().__init__()
        self.vocab, self.hidden, self.layers = vocab, hidden, layers
        self.kappa, self.target, self.lam = kappa, activity_target, activity_lambda
        self.readout, self.learn_thresholds = readout, learn_thresholds
        g = 3 * hidden
        p = {}
        for l in range(layers):
            w_in = init.get("layer%d.w_in" % l)
            if w_in is None:
                raise SystemExit("parameter file has no layer%d.w_in: not an EGRU of %d layers" % (l, layers))
            rows = vocab if l == 0 else hidden
            if w_in.size != rows * g:
                raise SystemExit("layer%d.w_in has %d values, an EGRU of hidden %d over %d inputs %d (sparse "
                                 "features are not part of the schedule)" % (l, w_in.size, hidden, rows, rows * g))
            p["layer%d.w_in" % l] = (rows, g)
            p["layer%d.w_rec" % l] = (hidden, g)
            p["layer%d.bias_in" % l] = (g,)
            p["layer%d.bias_rec" % l] = (g,)
            p["layer%d.threshold" % l] = (hidden,)
        p["readout.w"] = (vocab, layers * hidden)
        p["readout.bias"] = (vocab,)
        missing = [k for k in p if k not in init]
        if missing:
            raise SystemExit("parameter file lacks the EGRU tensors " + ", ".join(missing))
        self.names = list(p)
        self.params = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.from_numpy(init[k].reshape(s)),
                                requires_grad=learn_thresholds or not k.endswith(".threshold")) for k, s in p.items()])
        self.emitted = 0
        self.units = 0

    def tensor(self, name):
        return self.params[self.names.index(name)]

    def zero_state(self):
        return (torch.zeros(self.layers, self.hidden), torch.zeros(self.layers, self.hidden))

    def constrain(self):
        """Learned thresholds stay in [0, 1], as EgruCell.constrain keeps them."""
        if self.learn_thresholds:
            with torch.no_grad():
                for l in range(self.layers):
                    self.tensor("layer%d.threshold" % l).clamp_(0.0, 1.0)

    def window(self, x, mask, lengths, state):
        h = self.hidden
        c, o = list(state[0].unbind(0)), list(state[1].unbind(0))
        w_out, b_out = self.tensor("readout.w"), self.tensor("readout.bias")
        logits = []
        penalty = torch.zeros(())
        emitted = 0
        units = 0
        for t in range(x.shape[0]):
            m = mask[t].unsqueeze(1)
            below = None
            features = []
            for l in range(self.layers):
                theta = self.tensor("layer%d.threshold" % l)
                w_in = self.tensor("layer%d.w_in" % l)
                wx = self.tensor("layer%d.bias_in" % l) + (w_in[x[t]] if l == 0 else below @ w_in)
                rh = self.tensor("layer%d.bias_rec" % l) + (c[l] * o[l]) @ self.tensor("layer%d.w_rec" % l)
                u = torch.sigmoid(wx[:, :h] + rh[:, :h])
                r = torch.sigmoid(wx[:, h:2 * h] + rh[:, h:2 * h])
                g = torch.tanh(wx[:, 2 * h:] + r * rh[:, 2 * h:])
                chat = u * (c[l] - theta * o[l]) + (1.0 - u) * g  # subtractive reset of the last step's events
                on = Heaviside.apply(chat, theta, self.kappa)
                if self.lam > 0:
                    gap = on.mean(dim=1) - self.target
                    penalty = penalty + self.lam * (gap * gap * mask[t]).sum()
                with torch.no_grad():
                    emitted += int(on[mask[t]].sum())
                    units += int(mask[t].sum()) * h
                c[l] = torch.where(m, chat, c[l])
                o[l] = torch.where(m, on, o[l])
                below = c[l] * o[l]
                features.append(c[l] if self.readout == "cell" else below)
            logits.append(torch.cat(features, dim=1) @ w_out.t() + b_out)
        self.penalty = penalty
        self.last_emitted, self.last_units = emitted, units
        return torch.stack(logits), (torch.stack(c), torch.stack(o))


class SpillwayAdam:
    """gpu-engine's optim.Adam step for step: fp32 moments, the bias corrections folded into the step size
    (lr sqrt(1 - b2^t) / (1 - b1^t), in double, then fp32) and epsilon added to the uncorrected sqrt(v). Differs
    from torch.optim.Adam (epsilon after the correction) only where sqrt(v) is near epsilon, but this way the
    twin's steps are Spillway's."""

    def __init__(self, params, lr, beta1=0.9, beta2=0.999, eps=1e-8, decay=0.0):
        self.params = [p for p in params if p.requires_grad]
        self.decay = float(decay)
        f = np.float32
        self.lr, self.b1, self.b2, self.eps = float(f(lr)), f(beta1), f(beta2), float(f(eps))
        self.one_b1, self.one_b2 = float(f(1) - self.b1), float(f(1) - self.b2)
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.steps = 0

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.steps += 1
        c1 = 1.0 - float(self.b1) ** self.steps
        c2 = 1.0 - float(self.b2) ** self.steps
        rate = self.lr if self.decay == 0 else self.lr / math.sqrt(1.0 + (self.steps - 1) / self.decay)
        size = float(np.float32(rate * math.sqrt(c2) / c1))
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad if p.grad is not None else torch.zeros_like(p)
            m.mul_(float(self.b1)).add_(g * self.one_b1)
            v.mul_(float(self.b2)).add_(g * g * self.one_b2)
            p.sub_(size * m / (v.sqrt() + self.eps))


def clip_global_norm(params, max_norm):
    """gpu-engine's SpikingLearner.clip: the L2 norm over every gradient in double; above max_norm, every
    gradient scaled by max_norm / norm (in fp32)."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = math.sqrt(sum(float((g.double() * g.double()).sum()) for g in grads))
    if norm > max_norm:
        scale = float(np.float32(max_norm / norm))
        for g in grads:
            g.mul_(scale)


class GruPeer(torch.nn.Module):
    """The GRU peer: stacked nn.GRU layers over one-hot event types, linear readout of the top layer.

    State: (h,), (layers, batch, hidden). Sequences of a batch may differ in length: each layer runs over the
    padded window (no packing: packed sequences take nn.GRU's slow path on the CPU, about 5x slower here) and a
    sequence's end state is its output at its own last step; outputs past it feed only masked targets, so the
    loss and its gradient are those of the unpadded sequences.
    """

    def __init__(self, vocab, hidden, layers, embedding):
        super().__init__()
        self.vocab, self.hidden, self.layers = vocab, hidden, layers
        self.embed = torch.nn.Embedding(vocab, embedding) if embedding > 0 else None
        width = embedding if embedding > 0 else vocab
        self.grus = torch.nn.ModuleList(
            [torch.nn.GRU(width if l == 0 else hidden, hidden) for l in range(layers)])
        self.readout = torch.nn.Linear(hidden, vocab)

    def zero_state(self):
        return (torch.zeros(self.layers, self.hidden),)

    def window(self, x, mask, lengths, state):
        below = self.embed(x) if self.embed is not None else torch.nn.functional.one_hot(x, self.vocab).to(torch.float32)
        last = (lengths - 1).view(1, -1, 1).expand(1, -1, self.hidden)
        ends = []
        for l, gru in enumerate(self.grus):
            below, _ = gru(below, state[0][l:l + 1].contiguous())
            ends.append(below.gather(0, last).squeeze(0))
        return self.readout(below), (torch.stack(ends),)


def vm_hwm_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def batching_error(model, x, mask, lengths, state, logits, end):
    """Largest difference between the batched window and each sequence run alone at its own length."""
    worst = 0.0
    with torch.no_grad():
        for j in range(x.shape[1]):
            k = int(lengths[j])
            alone, alone_end = model.window(x[:k, j:j + 1], mask[:k, j:j + 1], lengths[j:j + 1],
                                            tuple(t[:, j:j + 1] for t in state))
            worst = max(worst, float((alone[:, 0] - logits[:k, j]).abs().max()))
            for a, b in zip(alone_end, end):
                worst = max(worst, float((a[:, 0] - b[:, j]).abs().max()))
    return worst


def train(model, vocab, batches, lr, clip, check_batches=0, record_steps=0, spillway_optimizer=False, decay=0.0):
    """One prequential run over the schedule; returns its figures. Checks the first batches of unequal lengths.

    decay > 0: the rate of the step after t steps is lr / sqrt(1 + t / decay), as Spillway's adam:decay=N.

    spillway_optimizer: gpu-engine's Adam and global-norm clipping (SpillwayAdam, clip_global_norm) rather than
    torch.optim.Adam and clip_grad_norm_. record_steps: the mean loss of each of the first N steps is reported.
    """
    checked = 0
    batching = 0.0
    if spillway_optimizer:
        opt = SpillwayAdam(model.parameters(), lr, decay=decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    step_losses, step_activities = [], []
    emitted = units = 0
    carried = {}  # key -> (state tuple of (layers, hidden) tensors or None, pending event type)
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
            seq = ev if c is None else np.concatenate(([c[1]], ev))
            if len(seq) < 2:  # a key's first single event only primes it
                carried[key] = (c[0] if c is not None else None, int(seq[-1]))
                continue
            seqs.append(seq)
            keys.append(key)
            starts.append(c[0] if c is not None else None)
        if not seqs:
            train_s += time.perf_counter() - t0
            continue
        b = len(seqs)
        lengths = [len(q) - 1 for q in seqs]
        steps_max = max(lengths)
        x = torch.zeros(steps_max, b, dtype=torch.long)
        y = torch.full((steps_max, b), -100, dtype=torch.long)
        mask = torch.zeros(steps_max, b, dtype=torch.bool)
        for j, q in enumerate(seqs):
            k = lengths[j]
            x[:k, j] = torch.from_numpy(q[:-1])
            y[:k, j] = torch.from_numpy(q[1:])
            mask[:k, j] = True
        zero = model.zero_state()
        state = tuple(torch.stack([(s if s is not None else zero)[i] for s in starts], dim=1) for i in range(len(zero)))
        lengths_t = torch.tensor(lengths, dtype=torch.int64)
        logits, end = model.window(x, mask, lengths_t, state)
        penalty = getattr(model, "penalty", None)  # read before batching_error runs the window again
        if hasattr(model, "last_units"):
            emitted += model.last_emitted
            units += model.last_units
            if steps < record_steps:
                step_activities.append(model.last_emitted / max(model.last_units, 1))
        if checked < check_batches and min(lengths) < steps_max:
            batching = max(batching, batching_error(model, x, mask, lengths_t, state, logits, end))
            checked += 1
        flat = logits.reshape(-1, vocab)
        per = torch.nn.functional.cross_entropy(flat, y.reshape(-1), ignore_index=-100, reduction="none")
        count = int(mask.sum())
        loss = (per.sum() if penalty is None else per.sum() + penalty) / count
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip > 0:
            if spillway_optimizer:
                clip_global_norm(model.parameters(), clip)
            else:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        if decay > 0 and not spillway_optimizer:
            for group in opt.param_groups:
                group["lr"] = lr / math.sqrt(1.0 + steps / decay)
        opt.step()
        if hasattr(model, "constrain"):
            model.constrain()
        with torch.no_grad():
            valid = y.reshape(-1) >= 0
            correct += int((flat.argmax(dim=1)[valid] == y.reshape(-1)[valid]).sum())
            batch_loss = float(per[valid].double().sum())
        for j, key in enumerate(keys):
            carried[key] = (tuple(t[:, j].detach().clone() for t in end), int(seqs[j][-1]))
        train_s += time.perf_counter() - t0
        if steps == 0:
            first_loss = batch_loss / count
        if steps < record_steps:
            step_losses.append(batch_loss / count)
        steps += 1
        targets += count
        loss_sum += batch_loss
    loss_nats = loss_sum / max(targets, 1)
    extra = {"step_losses_nats": step_losses} if record_steps > 0 else {}
    if step_activities:
        extra["step_activities"] = step_activities
    if units > 0:
        extra["activity"] = emitted / units
    return extra | {
        "lr": lr, "targets": targets, "steps": steps, "loss_nats": loss_nats,
        "bits_per_event": loss_nats / math.log(2), "accuracy": correct / max(targets, 1),
        "first_step_loss_nats": first_loss, "train_seconds": train_s, "cpu_seconds": time.process_time() - cpu0,
        "events_per_s": targets / train_s if train_s > 0 else float("nan"),
        "batching_checked_batches": checked, "batching_max_abs_diff": batching}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schedule", required=True)
    ap.add_argument("--model", choices=("lif", "egru", "gru"), default="lif")
    ap.add_argument("--params", help="Spillway's initial parameters (required for --model lif and egru)")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--lr", default="3e-3", help="a learning rate or a comma-separated grid")
    ap.add_argument("--embedding", type=int, default=-1,
                    help="GRU input: a learned embedding of this width (-1: the hidden width; 0: one-hot event types)")
    ap.add_argument("--clip", type=float, default=None,
                    help="gradient-norm clipping (0: none; default: Spillway's for the cell, 0.3 for egru, else none)")
    ap.add_argument("--decay", type=float, default=0.0,
                    help="Adam's rate falls as lr / sqrt(1 + t / DECAY) over the steps t (0: constant)")
    ap.add_argument("--alpha", type=float, default=0.9)
    ap.add_argument("--gain", type=float, default=10.0)
    ap.add_argument("--beta", type=float, default=10.0)
    ap.add_argument("--kappa", type=float, default=2.0, help="EGRU: the pseudo-derivative's scale")
    ap.add_argument("--activity-target", type=float, default=0.15, help="EGRU: the regulariser's target activity")
    ap.add_argument("--activity-lambda", type=float, default=1.0, help="EGRU: the regulariser's strength (0: off)")
    ap.add_argument("--readout", choices=("cell", "events"), default="cell", help="EGRU: what the readout reads")
    ap.add_argument("--learn-thresholds", action="store_true", help="EGRU: train the thresholds (kept in [0, 1])")
    ap.add_argument("--record-steps", type=int, default=0, metavar="N",
                    help="report the mean loss of each of the first N steps (step_losses_nats; EGRU: also "
                         "step_activities)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--extend", type=int, default=0, metavar="N",
                    help="up to N extra grid points beyond the edge while the best point is on an edge")
    ap.add_argument("--check-batching", type=int, default=0, metavar="N",
                    help="compare the first N batches of unequal lengths with each sequence run alone (slow)")
    args = ap.parse_args()
    if args.model in ("lif", "egru") and args.params is None:
        ap.error("--model %s needs --params (Spillway's initial parameters)" % args.model)
    if args.clip is None:
        args.clip = 0.3 if args.model == "egru" else 0.0
    torch.set_num_threads(args.threads)
    vocab, batches = read_schedule(args.schedule)
    init = read_params(args.params) if args.model in ("lif", "egru") else None
    def run(lr):
        torch.manual_seed(args.seed)  # every grid point from the same initial parameters
        if args.model == "lif":
            model = SpikingRnn(vocab, args.hidden, args.layers, init, args.alpha, args.gain, args.beta)
        elif args.model == "egru":
            model = EgruPeer(vocab, args.hidden, args.layers, init, args.kappa, args.activity_target,
                             args.activity_lambda, args.readout, args.learn_thresholds)
        else:
            model = GruPeer(vocab, args.hidden, args.layers, args.hidden if args.embedding < 0 else args.embedding)
        return train(model, vocab, batches, lr, args.clip, args.check_batching, args.record_steps,
                     spillway_optimizer=args.model == "egru", decay=args.decay)

    def best_of(points):
        finite = [g for g in points if math.isfinite(g["bits_per_event"])]
        return min(finite, key=lambda g: g["bits_per_event"]) if finite else points[0]

    grid = [run(lr) for lr in sorted(float(v) for v in args.lr.split(","))]
    for _ in range(args.extend):
        # the best point on the grid's edge: one more point beyond it, so the grid brackets the optimum
        best = best_of(grid)
        if len(grid) < 2 or best["lr"] not in (grid[0]["lr"], grid[-1]["lr"]):
            break
        edge_low = best["lr"] == grid[0]["lr"]
        point = run(best["lr"] / 3 if edge_low else best["lr"] * 2)
        point["extension"] = True
        grid = [point] + grid if edge_low else grid + [point]
    best = best_of(grid)
    out = dict(best)
    out.update({"model": args.model, "hidden": args.hidden, "layers": args.layers, "clip": args.clip,
                "decay": args.decay,
                "optimizer": "spillway-adam" if args.model == "egru" else "torch.optim.Adam",
                "grid": grid, "peak_rss_bytes": vm_hwm_bytes(), "threads": torch.get_num_threads(),
                "torch": torch.__version__})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
