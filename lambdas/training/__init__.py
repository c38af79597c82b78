"""Training and retraining: managed-spot training requests, evaluation, registration,
guarded deployment and the Lambda steps of the retraining state machine."""
