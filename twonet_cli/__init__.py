"""twonet: train and inspect the two-layer network of the classic backpropagation exercise."""

DEFAULT_CONFIG = "regression"  # the shipped config commands use when given none
