"""Pure logic of the TV sales pipeline: plain data in, plain data out, no MLflow."""
