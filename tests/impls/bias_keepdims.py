"""A planted mistake for `twonet check --impl`: nothing wrong: bias gradients kept as (1, K) rows."""

import numpy as np


def act(name, z):
    if name == "relu":
        return np.maximum(z, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    return z


def dact(name, z, a):
    if name == "relu":
        return (z > 0) * 1.0
    if name == "sigmoid":
        return a * (1 - a)
    return np.ones_like(z)


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function, linear_2_in_features,
                 linear_2_out_features, g_function):
        self.f_function = f_function
        self.g_function = g_function
        self.parameters = dict(
            W1=np.random.randn(linear_1_out_features, linear_1_in_features),
            b1=np.random.randn(linear_1_out_features),
            W2=np.random.randn(linear_2_out_features, linear_2_in_features),
            b2=np.random.randn(linear_2_out_features),
        )
        self.grads = dict(
            dJdW1=np.zeros((linear_1_out_features, linear_1_in_features)),
            dJdb1=np.zeros(linear_1_out_features),
            dJdW2=np.zeros((linear_2_out_features, linear_2_in_features)),
            dJdb2=np.zeros(linear_2_out_features),
        )
        self.cache = dict()

    def forward(self, x):
        p = self.parameters
        z1 = x @ p["W1"].T + p["b1"]
        z2 = act(self.f_function, z1)
        z3 = z2 @ p["W2"].T + p["b2"]
        y_hat = act(self.g_function, z3)
        self.cache = dict(x=x, z1=z1, z2=z2, z3=z3, y_hat=y_hat)
        return y_hat

    def backward(self, dJdy_hat):
        c, p = self.cache, self.parameters
        dz3 = dJdy_hat * dact(self.g_function, c["z3"], c["y_hat"])
        self.grads["dJdW2"] += dz3.T @ c["z2"]
        self.grads["dJdb2"] = self.grads["dJdb2"] + dz3.sum(axis=0, keepdims=True)
        dz1 = (dz3 @ p["W2"]) * dact(self.f_function, c["z1"], c["z2"])
        self.grads["dJdW1"] += dz1.T @ c["x"]
        self.grads["dJdb1"] += dz1.sum(axis=0)

    def clear_grad_and_cache(self):
        for grad in self.grads.values():
            grad[...] = 0
        self.cache = dict()


def mse_loss(y, y_hat):
    J = ((y_hat - y) ** 2).mean()
    dJdy_hat = 2 * (y_hat - y) / y.size
    return J, dJdy_hat


def bce_loss(y, y_hat):
    J = -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)).mean()
    dJdy_hat = ((1 - y) / (1 - y_hat) - y / y_hat) / y.size
    return J, dJdy_hat
