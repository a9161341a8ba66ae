"""For `twonet check --impl`: a correct torch mlp.py that casts its input to float32, a no-op in the
course (where everything is float32): it is driven in float32, and passes to float32's precision."""

import torch


class MLP:
    def __init__(self, linear_1_in_features, linear_1_out_features, f_function, linear_2_in_features,
                 linear_2_out_features, g_function):
        self.f_function = f_function
        self.g_function = g_function
        self.parameters = dict(
            W1=torch.randn(linear_1_out_features, linear_1_in_features),
            b1=torch.randn(linear_1_out_features),
            W2=torch.randn(linear_2_out_features, linear_2_in_features),
            b2=torch.randn(linear_2_out_features),
        )
        self.grads = dict(
            dJdW1=torch.zeros(linear_1_out_features, linear_1_in_features),
            dJdb1=torch.zeros(linear_1_out_features),
            dJdW2=torch.zeros(linear_2_out_features, linear_2_in_features),
            dJdb2=torch.zeros(linear_2_out_features),
        )
        self.cache = dict()

    @staticmethod
    def act(name, z):
        return {"relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda v: v}[name](z)

    @staticmethod
    def dact(name, z, a):
        if name == "relu":
            return (z > 0).to(z.dtype)
        if name == "sigmoid":
            return a * (1 - a)
        return torch.ones_like(z)

    def forward(self, x):
        p = self.parameters
        x = x.float()
        self.cache["x"] = x
        self.cache["s1"] = x @ p["W1"].t() + p["b1"]
        self.cache["a1"] = self.act(self.f_function, self.cache["s1"])
        self.cache["s2"] = self.cache["a1"] @ p["W2"].t() + p["b2"]
        self.cache["y_hat"] = self.act(self.g_function, self.cache["s2"])
        return self.cache["y_hat"]

    def backward(self, dJdy_hat):
        c, p = self.cache, self.parameters
        ds2 = dJdy_hat * self.dact(self.g_function, c["s2"], c["y_hat"])
        self.grads["dJdW2"] += ds2.t() @ c["a1"]
        self.grads["dJdb2"] += ds2.sum(0)
        ds1 = (ds2 @ p["W2"]) * self.dact(self.f_function, c["s1"], c["a1"])
        self.grads["dJdW1"] += ds1.t() @ c["x"]
        self.grads["dJdb1"] += ds1.sum(0)

    def clear_grad_and_cache(self):
        for grad in self.grads:
            self.grads[grad].zero_()
        self.cache = dict()


def mse_loss(y, y_hat):
    loss = ((y_hat - y) ** 2).mean()
    dJdy_hat = 2 * (y_hat - y) / y.numel()
    return loss, dJdy_hat


def bce_loss(y, y_hat):
    loss = -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat)).mean()
    dJdy_hat = ((1 - y) / (1 - y_hat) - y / y_hat) / y.numel()
    return loss, dJdy_hat
