"""twonet: train and inspect the two-layer network of the classic backpropagation exercise."""
