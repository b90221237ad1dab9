"""Model serving: OpenAI-compatible replicas the gateway routes to."""
