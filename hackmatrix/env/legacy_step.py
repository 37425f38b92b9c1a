"""The gymnax step contract before 1.0, for libraries still written against it (rejax 0.1.3).

gymnax 1.0 steps return (obs, state, reward, terminated, truncated, info); older gymnax and the
code built on it unpack (obs, state, reward, done, info). `LegacyStepEnv` gives that view of any
gymnax 1.0 env; `info` still holds `terminated` and `truncated`.
"""


class LegacyStepEnv:
    """A gymnax 1.0 env whose `step` returns (obs, state, reward, done, info)."""

    def __init__(self, env):
        self._env = env

    def __getattr__(self, name):
        # Everything but `step` (reset, spaces, params, action_mask, ...) is the wrapped env's;
        # `_env` itself is missing only on a half-built copy (copy/pickle), which must not recurse.
        if name == "_env":
            raise AttributeError(name)
        return getattr(self._env, name)

    def step(self, key, state, action, params=None):
        """Step and auto-reset; `done` is terminated or truncated."""
        obs, state, reward, terminated, truncated, info = self._env.step(key, state, action,
                                                                         params)
        return obs, state, reward, terminated | truncated, info
