"""Datasets: built-in generators and CSV/NPY/NPZ files (memory-mapped where large), the seeded
validation split, preprocessing, and the batches training steps through."""
