"""YAML configs as frozen dataclasses: loading, shipped configs, overrides, validation.

Precedence is defaults < config file < ``--set key.path=value``. Only ``yaml.safe_load`` is
used. Every error is one line naming the file (or the override) and the dotted key.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml

from .activations import Activation, ActivationName
from .errors import ConfigError
from .losses import Loss, LossName, Reduction
from .model import PARAM_NAMES, InitScheme, Net, Params, init_params
from .schema import ARRAY, Range, build, field_type, to_plain

DEFAULT_CONFIG = "regression"

Positive = Annotated[int, Range(low=1)]
Array = Annotated[Any, ARRAY]


@dataclass(frozen=True)
class ActivationConfig:
    SHORTHAND = "name"  # `f: tanh` is `f: {name: tanh}`

    name: ActivationName  # identity | relu | leaky_relu | tanh | sigmoid | softplus | softmax (g only)
    scale: float = 1.0  # relu: c in c·max(0, z); the exercise's regression uses 5
    slope: Annotated[float, Range(low=0)] = 0.01  # leaky_relu: slope for z ≤ 0

    def activation(self) -> Activation:
        return Activation(self.name, scale=self.scale, slope=self.slope)


@dataclass(frozen=True)
class InitConfig:
    scheme: InitScheme = "torch"  # torch (nn.Linear default) | normal | xavier | he
    seed: Annotated[int, Range(low=0)] = 0  # seed of the numpy Generator
    std: Annotated[float, Range(low=0, open_low=True)] = 0.1  # normal: standard deviation
    zero_bias: bool = False  # biases start at zero instead of nn.Linear's U(±1/√fan_in)


@dataclass(frozen=True)
class ParamsConfig:
    W1: Array  # (hidden, in_features)
    b1: Array  # (hidden,)
    W2: Array  # (out_features, hidden)
    b2: Array  # (out_features,)


@dataclass(frozen=True)
class ModelConfig:
    in_features: Positive = 2  # n
    hidden: Positive = 3  # m
    out_features: Positive = 1  # K
    f: ActivationConfig = ActivationConfig("relu", scale=5.0)  # hidden activation
    g: ActivationConfig = ActivationConfig("identity")  # output function
    init: InitConfig = InitConfig()  # random initialisation, unless params are given
    params: ParamsConfig | None = None  # explicit W1, b1, W2, b2 (take precedence over init)


@dataclass(frozen=True)
class LossConfig:
    name: LossName = "mse"  # mse | bce | cross_entropy
    reduction: Reduction = "mean"  # sum | mean, with PyTorch's meaning (and default)


@dataclass(frozen=True)
class ExampleConfig:
    x: Array  # one input (n numbers) or a batch (B rows of n)
    y: Array | None = None  # targets: K numbers per sample, or class indices for cross_entropy


Fraction = Annotated[float, Range(low=0, high=0.95)]
NonNegative = Annotated[float, Range(low=0)]


@dataclass(frozen=True)
class DataConfig:
    source: str = "surface"  # a generator (sine, surface, xor, circles, moons, blobs, spiral) or a .csv/.npy/.npz
    n: Positive = 500  # generators: samples drawn
    noise: NonNegative = 0.1  # generators: noise standard deviation
    seed: Annotated[int, Range(low=0)] = 0  # generators and the validation split
    classes: Annotated[int, Range(low=2)] = 3  # blobs and spiral: number of classes
    features: list[int | str] | None = None  # files: columns of x, by index or header name (default: all but target)
    target: int | str | None = None  # files: column of y (default: the last)
    x_key: str = "x"  # .npz: array of features (N, n)
    y_key: str = "y"  # .npz: array of targets (N,)
    val_fraction: Fraction = 0.2  # share of rows held out for validation (seeded)
    standardize: bool = False  # scale features to mean 0, std 1 using the training rows
    task: Literal["auto", "regression", "classification"] = "auto"  # auto: from the generator or the loss


@dataclass(frozen=True)
class TrainConfig:
    epochs: Positive = 100  # passes over the training rows
    batch_size: Positive | Literal["full"] = 32  # 1 = online SGD, "full" = the whole training set
    lr: Annotated[float, Range(low=0, open_low=True)] = 0.05  # learning rate η
    momentum: Annotated[float, Range(low=0, high=0.999)] = 0.0  # μ in v ← μ v + g
    nesterov: bool = False  # θ ← θ − η (g + μ v) instead of θ − η v
    weight_decay: NonNegative = 0.0  # L2: g ← g + λ θ
    schedule: Literal["constant", "step", "cosine"] = "constant"  # learning rate over epochs
    step_size: Positive = 30  # step schedule: epochs between decays
    gamma: Annotated[float, Range(low=0, high=1, open_low=True)] = 0.1  # step schedule: decay factor
    shuffle: bool = True  # reshuffle the training rows every epoch (seeded)
    patience: Positive | None = None  # stop after this many epochs without a better validation loss
    seed: Annotated[int, Range(low=0)] = 0  # shuffling
    dtype: Literal["float64", "float32"] = "float64"  # arithmetic of the whole run
    checkpoint_seconds: NonNegative = 1.0  # --out: least time between checkpoints (one is always written at the end)


@dataclass(frozen=True)
class Config:
    description: str = ""  # one line shown by `twonet` commands
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    example: ExampleConfig | None = None  # default input and target for `grads`
    data: DataConfig = field(default_factory=DataConfig)  # what `train` learns from
    train: TrainConfig = field(default_factory=TrainConfig)  # how `train` learns

    def net(self) -> Net:
        m = self.model
        return Net(m.f.activation(), m.g.activation(), Loss(self.loss.name, self.loss.reduction))

    def params(self) -> Params:
        """Explicit params if the config has them, else a seeded random init."""
        m = self.model
        if m.params is not None:
            return Params(*(getattr(m.params, k) for k in PARAM_NAMES))
        i = m.init
        rng = np.random.default_rng(i.seed)
        return init_params(m.in_features, m.hidden, m.out_features, rng, i.scheme, i.std, i.zero_bias)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n, m, K) of the model."""
        return self.model.in_features, self.model.hidden, self.model.out_features

    def to_yaml(self) -> str:
        return yaml.safe_dump(to_plain(self), sort_keys=False, allow_unicode=True)


def shipped_dir() -> Path:
    """The shipped configs: inside the installed wheel, or the repository's top-level configs/."""
    packaged = Path(str(resources.files("twonet_cli"))) / "configs"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "configs"


def shipped_configs() -> dict[str, Path]:
    return {p.stem: p for p in sorted(shipped_dir().glob("*.yaml"))}


def resolve(name_or_path: str | None) -> Path:
    """A config path from a path or the name of a shipped config (default: DEFAULT_CONFIG)."""
    arg = name_or_path or DEFAULT_CONFIG
    path = Path(arg)
    if path.is_file():
        return path
    shipped = shipped_configs()
    if arg in shipped:
        return shipped[arg]
    if path.exists():
        raise ConfigError(f"--config: '{arg}' is not a file")
    raise ConfigError(f"--config: no file '{arg}' and no shipped config of that name (shipped: {', '.join(shipped)})")


def read_yaml(path: Path, what: str = "config") -> Any:
    """Parse ``path`` with ``yaml.safe_load``; any failure is a one-line ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read {what}: {getattr(e, 'strerror', None) or e}") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a yaml.SafeLoader: see _UniqueKeyLoader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key given twice in one mapping (SafeLoader keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_override(text: str) -> tuple[str, Any]:
    """``model.hidden=8`` → ("model.hidden", 8); the value is read as YAML."""
    key, eq, value = text.partition("=")
    key = key.strip()
    if not eq or not key:
        raise ConfigError(f"--set {text}: expected key.path=value, e.g. --set model.hidden=8")
    field_type(Config, key)  # rejects unknown paths now, naming them
    try:
        return key, yaml.safe_load(value)
    except yaml.YAMLError:
        raise ConfigError(f"--set {text}: the value is not valid YAML") from None


def _merge(raw: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = raw
    for part in parents:
        child = node.get(part)
        if isinstance(child, str):  # a shorthand like `f: tanh` being refined by `f.scale=2`
            child = {"name": child}
        node[part] = child = child if isinstance(child, dict) else {}
        node = child
    node[leaf] = value


def load(name_or_path: str | None = None, overrides: list[str] | tuple[str, ...] = ()) -> tuple[Config, Path]:
    """The validated config and its path: defaults < file < overrides."""
    path = resolve(name_or_path)
    raw = read_yaml(path)
    if raw is None:
        raise ConfigError(f"{path}: the config is empty")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level: expected a mapping of sections (model, loss, ...)")
    raw = copy.deepcopy(raw)
    origin: dict[str, str] = {}
    for text in overrides:
        try:
            key, value = parse_override(text)
        except ConfigError as e:
            raise ConfigError(str(e) if str(e).startswith("--set") else f"--set {text}: {e}") from None
        _merge(raw, key, value)
        origin[key] = f"--set {text}"
    try:
        config = build(Config, raw)
        validate(config)
    except ConfigError as e:
        raise ConfigError(f"{_blame(str(e), origin, path)}: {e}") from None
    return config, path


def name_of(path: Path) -> str:
    """A shipped config by its name, any other by its path."""
    return path.stem if path.parent == shipped_dir() else str(path)


def display_name(path: Path) -> str:
    """How error messages name a config file."""
    return f"{path.stem} (shipped config)" if path.parent == shipped_dir() else str(path)


def _blame(message: str, origin: dict[str, str], path: Path) -> str:
    """The override that caused an error at a dotted key, or else the file.

    A key an override set (or set inside) is its; so is a key missing from a section that an
    override brought into being (`--set model.params.W1=...` leaves b1 missing)."""
    key = message.split(":", 1)[0]
    parent = key.rpartition(".")[0]
    for k, o in origin.items():
        if key == k or key.startswith(k + ".") or (message.endswith("missing required key") and parent
                                                    and k.startswith(parent + ".")):
            return o
    return display_name(path)


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
    if m.g.name == "softmax" and m.out_features < 2:
        raise ConfigError("model.out_features: softmax needs at least 2 outputs")
    if m.params is not None:
        n, h, K = m.in_features, m.hidden, m.out_features
        want = {"W1": (h, n), "b1": (h,), "W2": (K, h), "b2": (K,)}
        for key, shape in want.items():
            got = np.shape(getattr(m.params, key))
            if got != shape:
                raise ConfigError(f"model.params.{key}: expected shape {shape} for {n} → {h} → {K}, got {got}")


def with_params(c: Config, p: Params) -> Config:
    """``c`` with explicit ``model.params`` (so a saved config reproduces a run started from them)."""
    explicit = ParamsConfig(*(np.asarray(a, dtype=np.float64) for _, a in p.items()))
    return replace(c, model=replace(c.model, params=explicit))
