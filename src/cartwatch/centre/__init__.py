"""The centre data format: a folder of CSV files, validated row by row."""
