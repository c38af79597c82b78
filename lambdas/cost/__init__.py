"""Cost domain: price catalog, CI estimate of a cloud assembly, runtime cost and right-sizing."""
