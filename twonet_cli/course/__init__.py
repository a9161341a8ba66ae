"""A class around the exercise: a variant per student (`assign`), submissions read as data and graded (`grade`)."""
