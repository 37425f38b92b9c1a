"""Third-party training on the game: a few updates of rejax's PPO on `make(...)`.

rejax 0.1.3 unpacks the pre-1.0 gymnax step (obs, state, reward, done, info), also on gymnax
1.0.1's own envs, so it trains "HackMatrix-legacy-v0", the same env with that step.
"""

import jax
import numpy as np
import pytest

rejax = pytest.importorskip("rejax")

from hackmatrix.env import make

NUM_ENVS, NUM_STEPS, ITERATIONS = 4, 8, 2


def test_rejax_ppo_trains_a_few_updates_on_the_game():
    env, params = make("HackMatrix-legacy-v0", max_steps_in_episode=20)
    steps = NUM_ENVS * NUM_STEPS * ITERATIONS
    algo = rejax.PPO.create(env=env, env_params=params, num_envs=NUM_ENVS, num_steps=NUM_STEPS,
                            total_timesteps=steps, eval_freq=steps, skip_initial_evaluation=True,
                            num_epochs=1, num_minibatches=2,
                            agent_kwargs={"hidden_layer_sizes": (16,)})
    # rejax's evaluation (128 greedy games) would compile the game once more; the training
    # iterations are what this test is about.
    algo = algo.replace(eval_callback=lambda algo, ts, rng: ())
    assert algo.discrete and algo.action_dim == 28
    before = algo.init_state(jax.random.key(0))
    after, _ = jax.jit(algo.train)(jax.random.key(0))
    assert int(after.global_step) == steps
    changed = jax.tree.map(lambda a, b: not np.array_equal(a, b), before.actor_ts.params,
                           after.actor_ts.params)
    assert all(jax.tree.leaves(changed))
    finite = jax.tree.map(lambda a: bool(np.isfinite(a).all()), after.actor_ts.params)
    assert all(jax.tree.leaves(finite))
