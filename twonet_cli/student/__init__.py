"""Run and check a student's own backprop code (`check --impl`)."""
