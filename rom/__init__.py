"""Reduced-order models of ``phys`` cases: Phi-ROM, with data-only and PINN-ROM baselines in the same code.

Importing ``rom`` (and ``rom.config``, ``rom.cli``, which the command line
validates with) does not import JAX.

- :mod:`rom.config`: every setting (:class:`rom.config.RomConfig`) and the data presets per case.
- :mod:`rom.model`: the sine-MLP decoder ``D(x; alpha)``, the latent dynamics ``Psi(alpha, mu)``, rollouts (diffrax).
- :mod:`rom.physics`: the dynamics loss's targets (solver tendency projected on the decoder's tangent space,
  the PINN residual, finite differences of latents) and the least-squares projection.
- :mod:`rom.train`: the jitted epoch (optax), gradient mixing and warm-up.
- :mod:`rom.data`: the training and test sets from our solver's ensembles; :mod:`rom.infer`: initial latents and
  forecasts; :mod:`rom.metrics`: errors in and beyond the training horizon; :mod:`rom.run`: one run;
  :mod:`rom.cli`: ``phys rom``.

Method: Hosseini Dashtbayaz, Salehipour, Butscher & Morris, "Physics-informed reduced order modeling of
time-dependent PDEs via differentiable solvers", NeurIPS 2025 (arXiv 2505.14595). See docs/rom.md.
"""

from rom.config import METHODS, RomConfig

__all__ = ["METHODS", "RomConfig"]
