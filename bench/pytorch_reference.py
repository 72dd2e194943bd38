#!/usr/bin/env python3
"""The reference for `resnet-exp bench`: the same CIFAR network and training step in PyTorch, timed the same way.

    python3 bench/pytorch_reference.py [--depths 20,56] [--variants residual] [--width 16] [--batch 128]
                                       [--steps 5] [--warmup 2] [--threads CORES] [--seed 1] [--profile]
                                       [--lockstep] [--momentum 0.9] [--weight-decay 1e-4]

Prints a JSON array of rows shaped like `resnet-exp bench --json` (backend "pytorch", plus "params"; "cpuMs" is
the median CPU time of a step over all threads). With --lockstep, one row for the workload `run` trains: every
(depth, variant) network takes one step on the same batch per iteration (bench/lockstep-step.ts is our side).

The network is src/models' (He et al. 2015, CIFAR-10): a 3x3 stem conv at 16 filters, three stages of n two-conv
blocks at 16/32/64 filters (stride 2 entering stages 2 and 3), batch norm after every conv (momentum 0.1,
eps 1e-5), ReLU, option A shortcuts (x[:, :, ::2, ::2] with the new channels zero-padded on both sides), global
average pool, a dense layer with bias. He init: kaiming normal, fan_in, for conv and dense weights; BN scale 1,
shift 0; bias 0. The step: forward in training mode, softmax cross-entropy, backward, SGD momentum 0.9 with weight
decay 1e-4 on conv and dense weights only. Random but fixed data. PyTorch's default NCHW layout.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv3x3(cin, cout, stride):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class Block(nn.Module):
    def __init__(self, cin, cout, stride, residual):
        super().__init__()
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn1 = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)
        self.conv2 = conv3x3(cout, cout, 1)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1)
        self.residual = residual
        self.stride = stride
        self.pad = (cout - cin) // 2 if cout != cin else 0
        self.reshapes = stride != 1 or cin != cout

    def shortcut(self, x):
        if not self.reshapes:
            return x
        # Option A: subsample, then zero channels on both sides (as our 0/1 selection conv does).
        return F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, self.pad, self.pad))

    def forward(self, x):
        f = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(f + self.shortcut(x)) if self.residual else F.relu(f)


class CifarNet(nn.Module):
    def __init__(self, depth, residual, width=16, classes=10):
        super().__init__()
        assert (depth - 2) % 6 == 0, "depth must be 6n+2"
        n = (depth - 2) // 6
        self.conv = conv3x3(3, width, 1)
        self.bn = nn.BatchNorm2d(width, eps=1e-5, momentum=0.1)
        blocks, cin = [], width
        for stage, mult in enumerate((1, 2, 4)):
            for b in range(n):
                cout = width * mult
                blocks.append(Block(cin, cout, 2 if stage > 0 and b == 0 else 1, residual))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x):
        h = self.blocks(F.relu(self.bn(self.conv(x))))
        return self.fc(h.mean(dim=(2, 3)))


def forward_macs(model):
    """Multiply-adds per image of the conv and dense layers (the shortcut's slice and pad have none), as totalCost."""
    macs, hooks = [0], []

    def count(module, _inputs, output):
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            macs[0] += output.shape[2] * output.shape[3] * kh * kw * module.in_channels * module.out_channels
        elif isinstance(module, nn.Linear):
            macs[0] += module.in_features * module.out_features

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            hooks.append(m.register_forward_hook(count))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, 32, 32))
    model.train()
    for h in hooks:
        h.remove()
    return macs[0]


def sgd(model, lr=0.01, momentum=0.9, weight_decay=1e-4):
    decayed = [p for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) for p in [m.weight]]
    ids = {id(p) for p in decayed}
    rest = [p for p in model.parameters() if id(p) not in ids]
    return torch.optim.SGD(
        [{"params": decayed, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}],
        lr=lr,
        momentum=momentum,
    )


def train_step(model, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()  # as our step, which reads the loss back


def time_iterations(iteration, steps, warmup):
    """Wall and CPU milliseconds (all threads) of each timed call of iteration()."""
    for _ in range(warmup):
        iteration()
    wall, cpu = [], []
    for _ in range(steps):
        start, start_cpu = time.perf_counter(), time.process_time()
        iteration()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return wall, cpu


def time_steps(model, opt, x, y, steps, warmup):
    return time_iterations(lambda: train_step(model, opt, x, y), steps, warmup)[0]


def profile_step(model, opt, x, y, label):
    """Per-op self CPU time of one step on stderr (torch.profiler), to set against bench/profile-step.ts."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        time_steps(model, opt, x, y, 1, 0)
    print(f"\n{label}: one profiled step", file=sys.stderr)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15), file=sys.stderr)


def timing(times, cpu, batch, threads, steps, macs):
    """The fields every row shares (src/bench/row.ts `timing`): how it ran and what a step or iteration cost."""
    median_ms = statistics.median(times)
    ips = batch * 1000 / median_ms
    return {
        "backend": "pytorch",
        "batch": batch,
        "threads": threads,
        "medianMs": round(median_ms, 2),
        "cpuMs": round(statistics.median(cpu), 2),
        "imagesPerSec": round(ips, 2),
        "gflops": round(3 * 2 * macs * ips / 1e9, 3),
        "steps": steps,
    }


def bench(depth, variant, batch, steps, warmup, threads, seed, profile=False, width=16):
    torch.manual_seed(seed)
    model = CifarNet(depth, residual=(variant == "residual"), width=width)
    macs = forward_macs(model)
    params = sum(p.numel() for p in model.parameters())
    opt = sgd(model)
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    model.train()
    times, cpu = time_iterations(lambda: train_step(model, opt, x, y), steps, warmup)
    if profile:
        profile_step(model, opt, x, y, f"pytorch {variant}-{depth}, batch {batch}, {threads} threads")
    return {"variant": variant, "depth": depth, **timing(times, cpu, batch, threads, steps, macs), "params": params}


def bench_lockstep(depths, variants, width, batch, steps, warmup, threads, seed, momentum, weight_decay):
    """One iteration: a step of every (depth, variant) network on the same batch, in that order, as `run` does."""
    nets = []
    for depth in depths:
        for variant in variants:
            # Same seed for each: twins start from the same weights, as ours do.
            torch.manual_seed(seed)
            model = CifarNet(depth, residual=(variant == "residual"), width=width)
            nets.append((f"{variant}-{depth}", model, sgd(model, momentum=momentum, weight_decay=weight_decay)))
    macs = sum(forward_macs(model) for _, model, _ in nets)
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))

    def iteration():
        for _, model, opt in nets:
            train_step(model, opt, x, y)

    times, cpu = time_iterations(iteration, steps, warmup)
    return {"networks": [name for name, _, _ in nets], "width": width, **timing(times, cpu, batch, threads, steps, macs)}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--depths", default="20,56")
    ap.add_argument("--variants", default="residual")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    # All cores, as resnet-exp's default: torch's own default here is OMP's, which can be 1.
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="per-op times of one more step on stderr")
    ap.add_argument("--width", type=int, default=16, help="filters of the first stage")
    ap.add_argument("--lockstep", action="store_true", help="one row: every network steps once per iteration")
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    a = ap.parse_args(argv)
    try:
        depths = [int(d) for d in a.depths.split(",") if d]
    except ValueError:
        ap.error(f"--depths must be a comma list of integers, got {a.depths!r}")
    variants = [v for v in a.variants.split(",") if v]
    for d in depths:
        if d < 8 or (d - 2) % 6:
            ap.error(f"depth {d} must be 6n+2 such as 20, 32, 44, 56, 110")
    for v in variants:
        if v not in ("plain", "residual"):
            ap.error(f"variant {v!r} must be plain or residual")
    if a.batch < 1 or a.steps < 1 or a.warmup < 0 or a.threads < 1 or a.width < 1:
        ap.error("--batch, --steps, --threads and --width must be positive, --warmup not negative")
    torch.set_num_threads(a.threads)
    if a.lockstep:
        rows = [
            bench_lockstep(
                depths, variants, a.width, a.batch, a.steps, a.warmup, a.threads, a.seed, a.momentum, a.weight_decay
            )
        ]
    else:
        rows = [
            bench(d, v, a.batch, a.steps, a.warmup, a.threads, a.seed, a.profile, a.width)
            for d in depths
            for v in variants
        ]
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
