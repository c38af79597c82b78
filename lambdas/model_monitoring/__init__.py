"""Model performance monitoring: predictions joined with late ground-truth labels.

Pure: `performance` (metrics), `ground_truth` (label files). Handler: `handler`.
"""
