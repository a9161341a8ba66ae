"""Configs: the shipped ones load, and every malformed one is refused in one line naming file and key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from twonet_cli.config import files as config_files
from twonet_cli.config.fields import to_plain
from twonet_cli.data.sizes import load_config
from twonet_cli.errors import ConfigError
from twonet_cli.formats.text import MAX_ALIASES, MAX_DEPTH

SHIPPED = ["regression", "classification-mse", "classification-bce", "classification-relu", "multiclass",
           "saturated-start"]


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return str(path)


def refused(tmp_path: Path, text: str, *fragments: str, overrides: tuple[str, ...] = ()) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), overrides)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_every_shipped_config_loads_and_is_frozen() -> None:
    assert set(SHIPPED) <= set(config_files.shipped_configs())
    for name in SHIPPED:
        cfg, path = load_config(name)
        assert path.name == f"{name}.yaml"
        assert cfg.description
        with pytest.raises(dataclasses.FrozenInstanceError):
            cfg.model.hidden = 3  # type: ignore[misc]


def test_multiclass_is_softmax_cross_entropy() -> None:
    cfg, _ = load_config("multiclass")
    assert (cfg.model.g.name, cfg.loss.name, cfg.model.out_features) == ("softmax", "cross_entropy", 3)


def test_default_config_is_regression() -> None:
    assert load_config(None)[1].stem == config_files.DEFAULT_CONFIG == "regression"


def test_shorthand_and_full_activation_forms(tmp_path: Path) -> None:
    cfg, _ = load_config(write(tmp_path, "model: {f: tanh, g: {name: relu, scale: 5}}\n"))
    assert cfg.model.f.name == "tanh" and cfg.model.g.scale == 5.0


def test_explicit_params_take_precedence(tmp_path: Path) -> None:
    text = """
model:
  in_features: 2
  hidden: 1
  out_features: 1
  params: {W1: [[1, 2]], b1: [0.5], W2: [[3]], b2: [-1]}
"""
    p = load_config(write(tmp_path, text))[0].params()
    assert p.W1.tolist() == [[1.0, 2.0]] and p.b2.tolist() == [-1.0] and p.W1.dtype == np.float64


def test_seeded_init_is_reproducible(tmp_path: Path) -> None:
    a = load_config("regression")[0].params()
    b = load_config("regression")[0].params()
    c = load_config("regression", ["model.init.seed=1"])[0].params()
    assert np.array_equal(a.W1, b.W1) and not np.array_equal(a.W1, c.W1)


@pytest.mark.parametrize(
    "text,fragments",
    [
        ("model: {hiden: 3}\n", ["model.hiden", "unknown key", "did you mean 'hidden'"]),
        ("modle: {}\n", ["modle", "unknown key"]),
        ("model: {hidden: three}\n", ["model.hidden", "expected an integer", "'three'"]),
        ("model: {hidden: 0}\n", ["model.hidden", "≥ 1"]),
        ("model: {hidden: 2.5}\n", ["model.hidden", "expected an integer"]),
        ("model: {hidden: true}\n", ["model.hidden", "expected an integer"]),
        ("model: {f: {name: relu, scale: abc}}\n", ["model.f.scale", "expected a number"]),
        ("model: {f: {name: relu, scale: .nan}}\n", ["model.f.scale", "finite"]),
        ("model: {f: swish}\n", ["model.f.name", "expected one of", "swish"]),
        ("model: {f: softmax}\n", ["model.f", "softmax is an output function"]),
        ("model: {g: identity}\nloss: {name: bce}\n", ["loss.name", "bce", "sigmoid"]),
        ("model: {g: sigmoid}\nloss: {name: cross_entropy}\n", ["cross_entropy", "softmax"]),
        ("model: {g: softmax, out_features: 1}\nloss: {name: cross_entropy}\n", ["model.out_features", "2"]),
        ("loss: {name: mse, reduction: avg}\n", ["loss.reduction", "sum, mean"]),
        ("loss: mse\n", ["loss", "expected a mapping"]),
        ("model: {init: {scheme: glorot}}\n", ["model.init.scheme", "xavier"]),
        ("model: {in_features: 2, hidden: 1, params: {W1: [[1, 2]], b1: [0], W2: [[1]]}}\n",
         ["model.params.b2", "missing"]),
        ("model: {in_features: 2, hidden: 1, params: {W1: [[1, 2, 3]], b1: [0], W2: [[1]], b2: [0]}}\n",
         ["model.params.W1", "shape (1, 2)", "(1, 3)"]),
        ("model: {params: {W1: [[1, x]], b1: [0], W2: [[1]], b2: [0]}}\n", ["model.params.W1", "numbers"]),
        ("model: {params: {W1: [[1, 2], [3]], b1: [0], W2: [[1]], b2: [0]}}\n", ["model.params.W1", "lengths"]),
        ("example: {y: [1]}\n", ["example.x", "missing required key"]),
        ("[1, 2]\n", ["top level", "mapping"]),
        ("model: {hidden: [\n", ["invalid YAML", "line"]),
        ("!!python/object/apply:os.system ['echo hi']\n", ["invalid YAML", "python/object"]),
        ("", ["empty"]),
    ],
)
def test_bad_configs_are_refused_with_the_file_and_key(tmp_path: Path, text: str, fragments: list[str]) -> None:
    message = refused(tmp_path, text, *fragments)
    assert message.startswith(str(tmp_path / "c.yaml"))


def test_overrides_precedence_and_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "model: {hidden: 4, f: tanh}\n")
    cfg, _ = load_config(path, ["model.hidden=8", "model.f.name=relu", "model.f.scale=2"])
    assert cfg.model.hidden == 8 and cfg.model.f.name == "relu" and cfg.model.f.scale == 2.0
    assert load_config(path, ["model.f.scale=3"])[0].model.f.name == "tanh"  # refines the shorthand
    refused(tmp_path, "{}\n", "--set model.hiden=8", "unknown key", overrides=("model.hiden=8",))
    refused(tmp_path, "{}\n", "--set model.hidden", "expected key.path=value", overrides=("model.hidden",))
    refused(tmp_path, "{}\n", "--set model.hidden=x", "model.hidden", "integer", overrides=("model.hidden=x",))
    refused(tmp_path, "{}\n", "--set model.hidden.x=1", "no sub-key", overrides=("model.hidden.x=1",))


def test_unknown_config_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match=r"no shipped config.*regression"):
        load_config("regresion")


def test_resolved_config_round_trips_through_yaml(tmp_path: Path) -> None:
    cfg, _ = load_config("regression")
    again, _ = load_config(write(tmp_path, cfg.to_yaml()))
    assert to_plain(again) == to_plain(cfg)


def test_shipped_snapshot_is_the_yaml_parse_of_every_shipped_config() -> None:
    """The parse made beforehand holds exactly configs/'s texts, each as the YAML loader reads it
    (types too: 5 and 5.0 differ); after editing a config: python -m twonet_cli.config.shipped."""
    import json

    from twonet_cli.config import shipped
    from twonet_cli.formats.yaml_text import parse

    texts = [p.read_text(encoding="utf-8") for p in config_files.shipped_configs().values()]
    snapshot = json.loads(shipped.SNAPSHOT.read_text(encoding="utf-8"))
    assert sorted(snapshot) == sorted(texts), "configs/ changed: run python -m twonet_cli.config.shipped"
    for text in texts:
        want = parse(text, "test", MAX_DEPTH, MAX_ALIASES)
        assert snapshot[text] == want  # key types too (JSON would make a key 1 into "1")
        assert json.dumps(snapshot[text]) == json.dumps(want)  # and value types: 5 and 5.0 differ
    first = shipped.parsed(texts[0])
    first["model"] = "changed"
    assert shipped.parsed(texts[0])["model"] != "changed"  # a fresh copy each time: callers may change it
    with pytest.raises(ValueError, match="JSON cannot keep"):
        shipped.snapshot(["1: one\n"])


def test_an_edited_shipped_config_is_read_by_the_yaml_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from twonet_cli.formats import yaml_text

    text = config_files.resolve("regression").read_text(encoding="utf-8")
    parse = yaml_text.parse
    monkeypatch.setattr(yaml_text, "parse", lambda *a: pytest.fail("a shipped text went to the YAML loader"))
    copy, _ = load_config(write(tmp_path, text))  # the same text: the snapshot's parse
    monkeypatch.setattr(yaml_text, "parse", parse)
    edited, _ = load_config(write(tmp_path, text.replace("hidden: 32", "hidden: 7")))
    assert (copy.model.hidden, edited.model.hidden) == (32, 7)
    assert "hidden: 7" not in text and "hidden: 32" in text
    with pytest.raises(ConfigError, match="duplicate key 'hidden'"):  # and with the YAML loader's checks
        load_config(write(tmp_path, text.replace("hidden: 32", "hidden: 32\n  hidden: 7")))


def test_a_shipped_config_loads_without_importing_yaml() -> None:
    import subprocess
    import sys

    code = ("import sys; from twonet_cli.data.sizes import load_config; load_config('multiclass'); "
            "print('yaml' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
