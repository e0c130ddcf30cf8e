"""DeepXDE's Burgers example (PyTorch back-end), timed; the DeepXDE row of ``bench/bench_pinn.py``.

Runs in DeepXDE's own interpreter (not the physax venv, which has no torch):

    DDE_BACKEND=pytorch /path/to/python bench/_deepxde_burgers.py --threads 1

and prints one JSON object on the last line of stdout. The problem is
DeepXDE's ``examples/pinn_forward/Burgers.py`` as published: x in [-1, 1],
t in [0, 0.99], ``TimePDE(..., num_domain=2540, num_boundary=80,
num_initial=160)``, ``FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")``,
Adam with lr 1e-3, float32. Two timings:

- ``train_step``: DeepXDE's compiled step (``model.train_step`` on the fixed
  training batch: forward, residual by ``dde.grad``, the three mean-square
  losses, backward, Adam) called in a Python loop: the step alone.
- ``model.train``: ``model.train(iterations=N)`` per window, which adds
  DeepXDE's per-step bookkeeping and one loss evaluation on the test set at the
  start and end of each call (``display_every`` set above ``N``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (and interop threads)")
    parser.add_argument("--steps", type=int, default=200, help="steps per timed window")
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--train-windows", type=int, default=3, help="windows of model.train (0: skip)")
    parser.add_argument("--cpu", type=int, default=None, help="pin the process to this CPU core (os.sched_setaffinity)")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})

    os.environ.setdefault("DDE_BACKEND", "pytorch")
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.threads)
    import deepxde as dde

    if dde.backend.backend_name != "pytorch":
        sys.exit(f"DDE_BACKEND must be pytorch, got {dde.backend.backend_name}")
    dde.config.set_default_float("float32")
    dde.config.set_random_seed(0)

    def pde(x, y):
        dy_x = dde.grad.jacobian(y, x, i=0, j=0)
        dy_t = dde.grad.jacobian(y, x, i=0, j=1)
        dy_xx = dde.grad.hessian(y, x, i=0, j=0)
        return dy_t + y * dy_x - 0.01 / np.pi * dy_xx

    setup_start = time.perf_counter()
    geom = dde.geometry.Interval(-1, 1)
    timedomain = dde.geometry.TimeDomain(0, 0.99)
    geomtime = dde.geometry.GeometryXTime(geom, timedomain)
    bc = dde.icbc.DirichletBC(geomtime, lambda x: 0, lambda _, on_boundary: on_boundary)
    ic = dde.icbc.IC(geomtime, lambda x: -np.sin(np.pi * x[:, 0:1]), lambda _, on_initial: on_initial)
    data = dde.data.TimePDE(geomtime, pde, [bc, ic], num_domain=2540, num_boundary=80, num_initial=160)
    net = dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-3)

    # Set-up: building the data, the network and the model, and the first training iteration (DeepXDE's
    # counterpart of physax's compilation), for the run time with set-up included.
    model.train(iterations=1, display_every=10**9, verbose=0)
    setup_s = time.perf_counter() - setup_start
    # Warm-up through the public API; it also builds the training batch.
    model.train(iterations=args.warmup, display_every=10**9, verbose=0)
    state = model.train_state
    points = {
        "network_rows": int(state.X_train.shape[0]),  # rows through the network each step
        "bc_rows": [int(n) for n in data.num_bcs],  # Dirichlet, IC (taken from train_x_all)
        "pde_rows": int(data.train_x_all.shape[0]),  # rows of the residual loss
    }

    def step_window() -> float:
        start = time.perf_counter()
        for _ in range(args.steps):
            model.train_step(state.X_train, state.y_train, state.train_aux_vars)
        return time.perf_counter() - start

    c0 = os.times()
    step_times = [step_window() for _ in range(args.windows)]
    c1 = os.times()
    cpu_per_wall = ((c1.user - c0.user) + (c1.system - c0.system)) / sum(step_times)
    train_times = []
    for _ in range(args.train_windows):
        start = time.perf_counter()
        model.train(iterations=args.steps, display_every=10**9, verbose=0)
        train_times.append(time.perf_counter() - start)

    def summary(times: list[float]) -> dict:
        rates = [args.steps / t for t in times]
        return {"steps_per_s": statistics.median(rates), "rates": rates}

    result = {
        "train_step": {**summary(step_times), "cpu_per_wall": cpu_per_wall},
        "affinity": sorted(os.sched_getaffinity(0)),
        "model_train": summary(train_times) if train_times else None,
        "steps_per_window": args.steps,
        "setup_s": setup_s,
        "threads": torch.get_num_threads(),
        "points": points,
        "loss": [float(v) for v in np.ravel(model.train_state.loss_train)],
        "versions": {
            "python": platform.python_version(),
            "deepxde": dde.__version__,
            "torch": torch.__version__,
        },
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
