"""Column-wise CSV batch grading with row-level errors."""
