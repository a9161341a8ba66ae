"""Training: the SGD step (sgd.py), the epoch loop that yields records (loop.py), and a whole run
with checkpoints and Ctrl-C (session.py). Nothing here prints or writes files itself."""
