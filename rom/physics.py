"""The dynamics loss: what the latent velocity should be, three ways, and the error Psi makes against it.

Phi-ROM (Hosseini Dashtbayaz et al. 2025, sec. 3): the decoded field
``u = D(alpha)`` changes as ``du/dt = J(alpha) alpha'`` with ``J = dD/dalpha``,
so the latent velocity that follows the discretised PDE ``du/dt = F(u)`` is the
least-squares solution of ``J alpha' = F(u)``. ``J`` is taken at a random
fraction ``gamma`` of the grid points only (hyper-reduction: ``k`` columns
need far fewer than ``n`` rows), and the system is solved by QR.

A method is a *target* (:class:`AbstractTarget`): the latent velocity the
loop's Psi is matched to, from what one batch offers (:class:`Batch`):

- :class:`SolverTarget` (``phi``): ``F`` is the scheme's own tendency
  (``solvers`` scheme contract, the discretisation ``phys run`` uses) of the
  decoded field on the solver's grid.
- :class:`AutodiffTarget` (``pinn``): ``F`` at the sampled points by autodiff
  of the decoder in ``x``, from :func:`pinns.residual.residual` of the same
  PDE object (the decoder does not depend on t, so the residual is ``-F``).
- :class:`FiniteDifferenceTarget` (``data``): the central difference in time of
  the auto-decoded latents of the same trajectory (no physics).

:func:`normalised_error` is ``|a - b| / |b|`` per sample with ``|b|`` under
``stop_gradient`` (or its square), as Phi-ROM's loss.
"""

from __future__ import annotations

import abc
import equinox as eqx
import jax
import jax.numpy as jnp
from jax.scipy.linalg import solve_triangular
from jaxtyping import Array, Float, Int, PRNGKeyArray

from phys.pdes._base import AbstractPDE
from rom.model import SineDecoder

__all__ = [
    "AbstractTarget", "AutodiffTarget", "Batch", "FiniteDifferenceTarget", "SolverTarget",
    "decoder_jacobian", "normalised_error", "project", "projected_velocity", "sample_points", "scheme_tendency",
]

def project(jacobian: Float[Array, "m k"], target: Float[Array, " m"]) -> Float[Array, " k"]:
    """The least-squares ``v`` of ``jacobian v = target``, by QR (``R v = Q^T target``)."""
    q, r = jnp.linalg.qr(jacobian)
    return solve_triangular(r, q.T @ target, lower=False)


def decoder_jacobian(decoder: SineDecoder, alpha: Float[Array, " k"], points: Float[Array, "m d"]) -> Float[Array, "mf k"]:
    """``dD/dalpha`` at ``points``, rows ordered point-major (all fields of point 0 first); forward mode (k columns)."""
    return jax.jacfwd(lambda a: jax.vmap(decoder, in_axes=(0, None))(points, a).reshape(-1))(alpha)


def projected_velocity(decoder: SineDecoder, alpha: Float[Array, " k"], points: Float[Array, "m d"], tendency: Float[Array, "m fields"]) -> Float[Array, " k"]:
    """The latent velocity whose decoded change best matches ``tendency`` at ``points`` (least squares)."""
    return project(decoder_jacobian(decoder, alpha, points), tendency.reshape(-1))


def sample_points(key: PRNGKeyArray, n_points: int, gamma: float) -> Int[Array, " m"]:
    """``max(1, floor(gamma n))`` distinct grid-point indices, uniformly at random."""
    m = max(1, int(gamma * n_points))
    return jax.random.permutation(key, n_points)[:m]


def normalised_error(prediction: Array, target: Array, squared: bool = False) -> Float[Array, ""]:
    """``|prediction - target| / |target|`` over all entries, ``|target|`` under ``stop_gradient``; squared if asked."""
    error = jnp.sum((prediction - target) ** 2)
    norm = jax.lax.stop_gradient(jnp.sum(target**2))
    # The floor keeps an exactly zero target (a steady snapshot) finite.
    tiny = jnp.asarray(jnp.finfo(error.dtype).tiny, error.dtype)
    ratio = error / jnp.maximum(norm, tiny)
    return ratio if squared else jnp.sqrt(ratio + tiny)


class Batch(eqx.Module):
    """What a target may read for one batch of snapshots ``(trajectory, time)``.

    ``decoder``, ``alpha``, ``fields`` and ``memory`` carry gradients only
    after the warm-up (:mod:`rom.train` gates them), so a target needs no
    warm-up logic of its own.
    """

    decoder: SineDecoder
    alpha: Float[Array, "b k"]
    fields: Float[Array, "b fields *n"]  # the decoded fields on the solver's grid
    mu: Float[Array, "b p"]
    memory: Float[Array, "trajectories steps k"]  # every training latent
    trajectory: Int[Array, " b"]
    step: Int[Array, " b"]
    points: Float[Array, "n d"]  # the grid's points, as in rom.model.grid_points
    key: PRNGKeyArray


class AbstractTarget(eqx.Module):
    """The latent velocity Psi is trained to, per snapshot of a batch."""

    @abc.abstractmethod
    def velocity(self, batch: Batch, gamma: float) -> Float[Array, "b k"]:
        """``[b, k]``: the target of ``Psi(alpha, mu)`` for each snapshot of ``batch``."""


def _subsets(batch: Batch, gamma: float) -> Int[Array, "b m"]:
    keys = jax.random.split(batch.key, batch.alpha.shape[0])
    return jax.vmap(lambda k: sample_points(k, batch.points.shape[0], gamma))(keys)


class SolverTarget(AbstractTarget):
    """Phi-ROM's target: the solver's tendency of the decoded field, projected at a fraction gamma of the points."""

    scheme: eqx.Module  # a solvers.AbstractScheme
    parameter: str = eqx.field(static=True)  # the swept PDE parameter ('' for none), set per snapshot from mu

    def velocity(self, batch: Batch, gamma: float) -> Float[Array, "b k"]:
        rates = jax.vmap(lambda u, mu: scheme_tendency(self.scheme, self.parameter, u, mu))(batch.fields, batch.mu)  # [b, fields, *n]
        b, n_fields = rates.shape[0], rates.shape[1]
        rates = rates.reshape(b, n_fields, -1).transpose(0, 2, 1)  # [b, points, fields]
        subsets = _subsets(batch, gamma)

        def one(alpha: Array, rate: Array, subset: Array) -> Array:
            return projected_velocity(batch.decoder, alpha, batch.points[subset], rate[subset])

        return jax.vmap(one)(batch.alpha, rates, subsets)


class AutodiffTarget(AbstractTarget):
    """PINN-ROM's target: the PDE's right-hand side by autodiff of the decoder in x, projected the same way."""

    pde: AbstractPDE
    parameter: str = eqx.field(static=True)  # the swept parameter ('' for none), set per snapshot from mu
    names: tuple[str, ...] = eqx.field(static=True)

    def velocity(self, batch: Batch, gamma: float) -> Float[Array, "b k"]:
        from pinns.residual import residual

        subsets = _subsets(batch, gamma)

        def one(alpha: Array, mu: Array, subset: Array) -> Array:
            pde = self.pde if not self.parameter else eqx.tree_at(lambda p: getattr(p, self.parameter), self.pde, mu[0])
            points = batch.points[subset]

            def net(z: Array) -> Array:
                return batch.decoder(z[1:], alpha)

            # The decoder has no t, so u_t = 0 and the residual u_t - F is -F.
            zeros = jnp.zeros((points.shape[0], 1), points.dtype)
            rate = -jax.vmap(lambda z: residual(pde, net, z, self.names, taylor=False))(jnp.concatenate([zeros, points], axis=1))
            return projected_velocity(batch.decoder, alpha, points, rate)

        return jax.vmap(one)(batch.alpha, batch.mu, subsets)


class FiniteDifferenceTarget(AbstractTarget):
    """The data-only target: ``d alpha / dt`` of the auto-decoded latents, central differences (one-sided at the ends)."""

    dt: float = eqx.field(static=True)

    def velocity(self, batch: Batch, gamma: float) -> Float[Array, "b k"]:
        rates = jnp.gradient(batch.memory, axis=1) / jnp.asarray(self.dt, batch.memory.dtype)
        return rates[batch.trajectory, batch.step]


def scheme_tendency(scheme: eqx.Module, parameter: str, u: Float[Array, "fields *n"], mu: Float[Array, " p"]) -> Float[Array, "fields *n"]:
    """``F(u)``: the scheme's tendency of the state fields ``u`` (scheme contract), its PDE's ``parameter`` set to ``mu[0]``.

    For a scheme whose ``tendency`` is not implemented (a step-only scheme)
    the rate is ``(step(u) - u) / dt``.
    """
    s = scheme if not parameter else eqx.tree_at(lambda sc: getattr(sc.pde, parameter), scheme, mu[0].astype(u.dtype))
    state = s.init(u)
    try:
        return s.fields(s.tendency(state))
    except NotImplementedError:
        return (s.fields(s.step(state)) - u) / jnp.asarray(s.time.dt, u.dtype)
