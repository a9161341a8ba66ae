"""The numeric core, pure numpy with no I/O: activations, losses and their reduction, the model
(forward, backward, Jacobians), metrics, and one fully explained pass."""
