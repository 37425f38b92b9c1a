"""Hyperparameter sweeps: many PPO configurations x seeds trained in one compiled program."""
