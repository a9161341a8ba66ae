"""The config schema as frozen dataclasses, each field with its default and meaning, and the rules
across keys. Reading files, shipped configs and ``--set`` overrides: files.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal

import numpy as np

from ..core.activations import Activation, ActivationName
from ..core.losses import Loss, LossName, Reduction
from ..core.model import PARAM_NAMES, InitScheme, Net, Params, init_params, shape_mismatch
from ..errors import ConfigError
from ..formats.arrays import load_params
from .fields import ARRAY, Range, to_plain

# Limits that keep every setting within what one machine holds and a run can finish: the largest
# layer, the most parameters (8 bytes each), generated rows, epochs, classes.
MAX_UNITS = 65_536  # n, m or K
MAX_PARAMS = 50_000_000  # n·m + m + K·m + K: 400 MB of float64
MAX_ROWS = 10_000_000  # rows a generator draws
MAX_COUNT = 10_000_000  # epochs, batch size, schedule and patience counts
MAX_SEED = 2**63 - 1
DATA_SUFFIXES = (".csv", ".npy", ".npz")  # data files; any other data.source names a generator

Units = Annotated[int, Range(low=1, high=MAX_UNITS)]
Count = Annotated[int, Range(low=1, high=MAX_COUNT)]
Seed = Annotated[int, Range(low=0, high=MAX_SEED)]
ArrayField = Annotated[Any, ARRAY]  # a number or nested lists of numbers, stored as a float64 array


@dataclass(frozen=True)
class ActivationConfig:
    """model.f or model.g: a function by name, with ReLU's scale and leaky ReLU's slope."""

    SHORTHAND = "name"  # `f: tanh` is `f: {name: tanh}`

    name: ActivationName  # identity | relu | leaky_relu | tanh | sigmoid | softplus | softmax (g only)
    scale: float = 1.0  # relu: c in c·max(0, z); the exercise's regression uses 5
    slope: Annotated[float, Range(low=0)] = 0.01  # leaky_relu: slope for z ≤ 0

    def activation(self) -> Activation:
        """The core's Activation for this entry."""
        return Activation(self.name, scale=self.scale, slope=self.slope)


@dataclass(frozen=True)
class InitConfig:
    """model.init: how parameters are drawn when none are given."""

    scheme: InitScheme = "torch"  # torch (nn.Linear default) | normal | xavier | he
    seed: Seed = 0  # seed of the numpy Generator
    std: Annotated[float, Range(low=0, open_low=True)] = 0.1  # normal: standard deviation
    zero_bias: bool = False  # biases start at zero instead of nn.Linear's U(±1/√fan_in)


@dataclass(frozen=True)
class ParamsConfig:
    """model.params: explicit W1, b1, W2, b2."""

    W1: ArrayField  # (hidden, in_features)
    b1: ArrayField  # (hidden,)
    W2: ArrayField  # (out_features, hidden)
    b2: ArrayField  # (out_features,)


@dataclass(frozen=True)
class ModelConfig:
    """model: the sizes n → m → K, f, g, and the starting parameters."""

    in_features: Units | None = None  # n; default: the data's feature columns (or params' W1)
    hidden: Units = 3  # m
    out_features: Units | None = None  # K; default: the data's target columns, or its classes
    f: ActivationConfig = ActivationConfig("relu", scale=5.0)  # hidden activation
    g: ActivationConfig = ActivationConfig("identity")  # output function
    init: InitConfig = InitConfig()  # random initialisation, unless params are given
    params: ParamsConfig | str | None = None  # explicit W1, b1, W2, b2 (take precedence over init), or a
    #   .npz/.json/.yaml file holding them (relative to the config's folder)


@dataclass(frozen=True)
class LossConfig:
    """loss: which loss, and its reduction over the batch."""

    name: LossName = "mse"  # mse | bce | cross_entropy
    reduction: Reduction = "mean"  # sum | mean, with PyTorch's meaning (and default)


@dataclass(frozen=True)
class ExampleConfig:
    """example: the input (and target) `twonet grads` shows by default."""

    x: ArrayField  # one input (n numbers) or a batch (B rows of n)
    y: ArrayField | None = None  # targets: K numbers per sample, or class indices for cross_entropy


Fraction = Annotated[float, Range(low=0, high=0.95)]
NonNegative = Annotated[float, Range(low=0)]


@dataclass(frozen=True)
class DataConfig:
    """data: what `twonet train` learns from — a generator or a file — and the split."""

    source: str = "surface"  # a generator (sine, surface, xor, circles, moons, blobs, spiral) or a .csv/.npy/.npz
    n: Annotated[int, Range(low=1, high=MAX_ROWS)] = 500  # generators: samples drawn
    noise: NonNegative = 0.1  # generators: noise standard deviation
    seed: Seed = 0  # generators and the validation split
    classes: Annotated[int, Range(low=2, high=1000)] = 3  # blobs and spiral: number of classes
    features: list[int | str] | None = None  # files: columns of x, by index or header name (default: all but target)
    target: int | str | list[int | str] | None = None  # files: column(s) of y (default: the last); a list
    #   of columns for a regression with several outputs
    x_key: str = "x"  # .npz: array of features (N, n)
    y_key: str = "y"  # .npz: array of targets (N,)
    val_fraction: Fraction = 0.2  # share of rows held out for validation (seeded), unless `validation` is given
    validation: str | None = None  # a .csv/.npy/.npz file of validation rows (same columns as source)
    test: str | None = None  # a .csv/.npy/.npz file scored once after training (same columns as source)
    standardize: bool = False  # scale features to mean 0, std 1 using the training rows
    task: Literal["auto", "regression", "classification"] = "auto"  # auto: from the generator or the loss


@dataclass(frozen=True)
class TrainConfig:
    """train: SGD and its schedule, as torch.optim.SGD, and the run's dtype and checkpoints."""

    epochs: Count = 100  # passes over the training rows
    batch_size: Count | Literal["full"] = 32  # 1 = online SGD, "full" = the whole training set
    lr: Annotated[float, Range(low=0, open_low=True)] = 0.05  # learning rate η
    momentum: Annotated[float, Range(low=0, high=0.999)] = 0.0  # μ in v ← μ v + g
    nesterov: bool = False  # θ ← θ − η (g + μ v) instead of θ − η v
    weight_decay: NonNegative = 0.0  # L2: g ← g + λ θ
    schedule: Literal["constant", "step", "cosine"] = "constant"  # learning rate over epochs
    step_size: Count = 30  # step schedule: epochs between decays
    gamma: Annotated[float, Range(low=0, high=1, open_low=True)] = 0.1  # step schedule: decay factor
    shuffle: bool = True  # reshuffle the training rows every epoch (seeded)
    patience: Count | None = None  # stop after this many epochs without a better validation loss
    seed: Seed = 0  # shuffling
    dtype: Literal["float64", "float32"] = "float64"  # arithmetic of the whole run
    checkpoint_seconds: NonNegative = 1.0  # --out: least time between checkpoints (one is always written at the end)


@dataclass(frozen=True)
class Config:
    """A whole config: the sections above, each defaulted."""

    description: str = ""  # one line shown by `twonet` commands
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    example: ExampleConfig | None = None  # default input and target for `grads`
    data: DataConfig = field(default_factory=DataConfig)  # what `train` learns from
    train: TrainConfig = field(default_factory=TrainConfig)  # how `train` learns

    def net(self) -> Net:
        """f, g and the loss as the core's Net."""
        m = self.model
        return Net(m.f.activation(), m.g.activation(), Loss(self.loss.name, self.loss.reduction))

    def params(self) -> Params:
        """Explicit params if the config has them, else a seeded random init."""
        m = self.model
        if isinstance(m.params, str):
            return load_params(m.params, self.shape, "model.params")
        if m.params is not None:
            return Params(*(getattr(m.params, k) for k in PARAM_NAMES))
        i = m.init
        rng = np.random.default_rng(i.seed)
        n, h, K = self.shape
        return init_params(n, h, K, rng, i.scheme, i.std, i.zero_bias)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n, m, K) of the model (sizes are filled in from the data when the config is loaded)."""
        n, K = self.model.in_features, self.model.out_features
        assert n is not None and K is not None, "sizes are inferred by config.files.load"
        return n, self.model.hidden, K

    def to_yaml(self) -> str:
        """The resolved config as YAML (every key, defaults included)."""
        import yaml

        return yaml.safe_dump(to_plain(self), sort_keys=False, allow_unicode=True)


def validate(c: Config) -> None:
    """Rules across keys: which f, g and loss go together; sizes of explicit params."""
    m, loss = c.model, c.loss
    if m.f.name == "softmax":
        raise ConfigError("model.f: softmax is an output function; use it as model.g")
    if loss.name == "bce" and m.g.name != "sigmoid":
        hint = "for softmax outputs use cross_entropy" if m.g.name == "softmax" else "use g: sigmoid"
        raise ConfigError(f"loss.name: bce needs outputs ŷ in (0, 1) from model.g: sigmoid, got {m.g.name}; {hint}")
    if loss.name == "cross_entropy" and m.g.name != "softmax":
        raise ConfigError(f"loss.name: cross_entropy needs model.g: softmax, got {m.g.name}")
    if m.g.name == "softmax" and c.shape[2] < 2:
        raise ConfigError("model.out_features: softmax needs at least 2 outputs")
    n, h, K = c.shape
    if n * h + h + K * h + K > MAX_PARAMS:
        count = n * h + h + K * h + K
        raise ConfigError(f"model.hidden: {n} → {h} → {K} has {count:,} parameters ({count * 8 / 1e9:.1f} GB as "
                          f"float64, several times that to train or check), more than the {MAX_PARAMS:,} twonet "
                          "holds")
    if isinstance(m.params, str):
        load_params(m.params, (n, h, K), "model.params")  # refused now, naming the file, if it does not fit
    elif m.params is not None:
        wrong = shape_mismatch({k: getattr(m.params, k) for k in PARAM_NAMES}, n, h, K)
        if wrong is not None:
            key, got, want = wrong
            raise ConfigError(f"model.params.{key}: expected shape {want} for {n} → {h} → {K}, got {got}")


def with_params(c: Config, params_file: str) -> Config:
    """``c`` starting from the parameters in ``params_file`` (the config refers to the file: its
    arrays are never written into YAML)."""
    return replace(c, model=replace(c.model, params=params_file))
