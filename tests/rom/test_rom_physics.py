"""The dynamics loss of Phi-ROM: the projection, an exact latent dynamics, and the inference of a latent."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from phys.case import Case
from rom.config import RomConfig
from rom.infer import initial_latent
from rom.model import RomModel, grid_points, make_model
from rom.physics import AutodiffTarget, Batch, SolverTarget, decoder_jacobian, projected_velocity, sample_points
from rom.train import TrainData, batch_losses
from solvers.scheme import scheme_for

C, NU, N, K = 1.0, 0.05, 32, 3


def _sine_model(latent: int = 4) -> RomModel:
    return make_model(
        jax.random.key(3), n_dims=1, n_fields=1, latent_dim=latent, decoder_width=16, decoder_depth=2, psi_width=8,
        psi_depth=1, x_low=[0.0], x_high=[1.0], field_mean=[0.5], field_scale=[2.0], mu_mean=[], mu_scale=[], dtype="float64",
    )


def test_projection_recovers_an_exact_tangent_vector():
    decoder = _sine_model().decoder
    points = grid_points([np.linspace(0.0, 1.0, 64)], "float64")
    alpha = jax.random.normal(jax.random.key(0), (4,), jnp.float64)
    velocity = jax.random.normal(jax.random.key(1), (4,), jnp.float64)
    # F = J v on the whole grid lies in the decoder's tangent space: the projection at 10% of the points gives v back.
    rate = jax.jit(lambda a, v: jax.jvp(lambda a: jax.vmap(decoder, in_axes=(0, None))(points, a), (a,), (v,))[1])(alpha, velocity)
    subset = sample_points(jax.random.key(2), 64, 0.1)
    assert subset.shape == (6,) and len(set(np.asarray(subset).tolist())) == 6
    recovered = eqx.filter_jit(projected_velocity)(decoder, alpha, points[subset], rate[subset])
    np.testing.assert_allclose(recovered, velocity, rtol=0, atol=1e-9)
    # A component off the tangent space is not in the answer: it is the least-squares solution (normal equations).
    jacobian = eqx.filter_jit(decoder_jacobian)(decoder, alpha, points[subset])
    off = rate[subset].reshape(-1) + jnp.sin(jnp.arange(6.0) * 1.7)
    solution = eqx.filter_jit(projected_velocity)(decoder, alpha, points[subset], off.reshape(-1, 1))
    np.testing.assert_allclose(jacobian.T @ (jacobian @ solution - off), 0.0, atol=1e-9)


class _FourierDecoder(eqx.Module):
    """u(x; alpha) = alpha_0 cos(K x) + alpha_1 sin(K x): linear in alpha."""

    def __call__(self, x: Array, alpha: Array) -> Array:
        return jnp.stack([alpha[0] * jnp.cos(K * x[0]) + alpha[1] * jnp.sin(K * x[0])])


class _LinearDynamics(eqx.Module):
    matrix: Array

    def __call__(self, alpha: Array, mu: Array) -> Array:
        return self.matrix @ alpha


def _convection_diffusion() -> Case:
    return Case(
        name="convection-diffusion-fv",
        pde={"name": "convection-diffusion", "params": {"c": C, "nu": NU}},
        domain={"length": 2 * math.pi},
        grid={"n": N},
        ic={"kind": "family", "name": "sine", "params": {"amplitude": 1.0, "wavenumber": 1.0}},
        time={"t_end": 0.5, "dt": 0.05},
        solver={"method": "finite-volume", "flux": "rusanov", "reconstruction": "constant", "order": 1},
        dtype="float64",
    )


def _exact_matrix(sign: float = 1.0) -> np.ndarray:
    # First-order upwind (Rusanov at constant speed c > 0) plus central diffusion: a Fourier mode
    # e^{iKx} is an eigenvector with eigenvalue a + ib, so (alpha_0, alpha_1)' = [[a, b], [-b, a]] alpha.
    h = 2 * math.pi / N
    a = -C * (1 - math.cos(K * h)) / h - 4 * NU * math.sin(K * h / 2) ** 2 / h**2
    b = -C * math.sin(K * h) / h
    return np.array([[a, sign * b], [-sign * b, a]])


def test_physics_loss_is_zero_for_exact_latent_dynamics():
    scheme = scheme_for(_convection_diffusion())
    x = scheme.coords()[0]
    alphas = np.array([[1.0, 0.5], [-0.3, 2.0], [0.7, -1.1]])
    fields = (alphas[:, 0, None] * np.cos(K * x) + alphas[:, 1, None] * np.sin(K * x))[:, None, None, :]  # [3, 1, 1, n]
    data = TrainData(fields=jnp.asarray(fields), mu=jnp.zeros((3, 0)), points=grid_points([x], "float64"), shape=(N,))
    memory = jnp.asarray(alphas)[:, None, :]
    config = RomConfig(gamma=0.25, loss_lambda=0.5)
    target = SolverTarget(scheme=scheme, parameter="")
    snapshots = jnp.arange(3)
    on = jnp.asarray(1.0)

    def losses(sign: float) -> tuple[float, float]:
        model = RomModel(decoder=_FourierDecoder(), dynamics=_LinearDynamics(jnp.asarray(_exact_matrix(sign))))  # type: ignore[arg-type]
        _, (rec, dyn) = eqx.filter_jit(batch_losses)((model, memory), data, target, snapshots, jax.random.key(0), on, config)
        return float(rec), float(dyn)

    rec, dyn = losses(1.0)
    assert rec < 1e-12 and dyn < 1e-10, (rec, dyn)
    # The wrong sense of rotation (b -> -b) is far from the solver's dynamics.
    _, wrong = losses(-1.0)
    assert wrong > 0.5, wrong


class _TanhDecoder(eqx.Module):
    """u(x; alpha) = sum_k tanh(alpha_k) sin((k + 1) pi x): nonlinear in alpha, and alpha is determined by u."""

    def __call__(self, x: Array, alpha: Array) -> Array:
        modes = jnp.sin(jnp.pi * jnp.arange(1, alpha.shape[0] + 1, dtype=x.dtype) * x[0])
        return jnp.stack([jnp.sum(jnp.tanh(alpha) * modes)])


def test_inference_recovers_the_latent_of_a_training_snapshot():
    points = grid_points([np.linspace(0.0, 1.0, 64)], "float64")
    truth = jnp.asarray([0.4, -0.8, 0.3, 1.1])
    # Candidates: the snapshot's latent perturbed, and a far one; descent starts from the better and converges.
    candidates = jnp.stack([truth + jnp.asarray([0.15, -0.1, 0.2, -0.12]), -truth])
    decoder = _TanhDecoder()
    values = jax.vmap(decoder, in_axes=(0, None))(points, truth)
    alpha, misfit = initial_latent(decoder, points, values, candidates, 600, 1e-2)  # type: ignore[arg-type]
    np.testing.assert_allclose(alpha, truth, atol=1e-4)
    assert float(misfit) < 1e-9
    # A random sine decoder's latent is only weakly determined (its Jacobian's singular values span four
    # decades here), but the field it decodes is recovered: a normalised squared misfit of 1e-6 or less.
    sine = _sine_model().decoder
    values = jax.vmap(sine, in_axes=(0, None))(points, truth)
    start = float(jnp.sum((jax.vmap(sine, in_axes=(0, None))(points, candidates[0]) - values) ** 2) / jnp.sum(values**2))
    _, misfit = initial_latent(sine, points, values, candidates, 600, 1e-2)
    assert float(misfit) < 1e-6 < start, (float(misfit), start)


def test_pinn_rom_target_is_the_pdes_own_latent_dynamics_for_a_fourier_decoder():
    # u = a0 cos Kx + a1 sin Kx solves u_t = -c u_x + nu u_xx exactly when
    # (a0, a1)' = [[-nu K^2, -c K], [c K, -nu K^2]] (a0, a1): the autodiff tendency, projected, gives it.
    case = _convection_diffusion()
    pde = case.pde.build("float64")
    x = np.linspace(0.0, 2 * math.pi, N, endpoint=False)
    alphas = jnp.asarray([[1.0, 0.5], [-0.3, 2.0]])
    batch = Batch(decoder=_FourierDecoder(), alpha=alphas, fields=jnp.zeros((2, 1, N)), mu=jnp.zeros((2, 0)),  # type: ignore[arg-type]
                  memory=jnp.zeros((2, 1, 2)), trajectory=jnp.arange(2), step=jnp.zeros(2, int),
                  points=grid_points([x], "float64"), key=jax.random.key(0))
    velocity = eqx.filter_jit(AutodiffTarget(pde=pde, parameter="", names=("u",)).velocity)(batch, 0.25)
    matrix = np.array([[-NU * K**2, -C * K], [C * K, -NU * K**2]])
    np.testing.assert_allclose(velocity, alphas @ matrix.T, rtol=0, atol=1e-10)
