"""A planted mistake for `twonet check --impl FILE.py:grads -c regression`: the ×5 of the ReLU left out of
its derivative (setup 1: f = 5·ReLU, g = identity, MSE summed)."""

import numpy as np


def grads(params, x, y):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    z1 = x @ W1.T + b1
    z2 = 5 * np.maximum(z1, 0)
    y_hat = z2 @ W2.T + b2
    dz3 = 2 * (y_hat - y)
    dz1 = (dz3 @ W2) * (z1 > 0)
    return {"W1": dz1.T @ x, "b1": dz1.sum(axis=0), "W2": dz3.T @ z2, "b2": dz3.sum(axis=0)}
