"""Developer tools: the local stack, the demo, the traffic generator, build and infra generation."""
