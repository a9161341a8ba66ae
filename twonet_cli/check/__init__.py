"""The gradient check: numerical derivatives (complex step, central differences), their comparison
with the analytic ones, the verdict, and the diagnosis of mistakes in hand-written gradients."""
