"""CDK stacks of the ML platform: one per domain, each reading its slice of the validated config."""
