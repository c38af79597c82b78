"""A/B-test analysis: a stats engine over per-variant summary statistics, and its handler.

The pure core (every module except ``handler``) takes counts, sums and sums of squares
and returns plain data: it never touches AWS, so the CLI, the scheduled Lambda function
and the tests run exactly the same code.
"""
