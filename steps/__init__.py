"""MLflow entry points: thin shells that parse parameters, read upstream runs by ID and log results."""
