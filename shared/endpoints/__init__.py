"""The route table of each HTTP function: where an endpoint lives."""
