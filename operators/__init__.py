"""The llmops Kubernetes operator (kopf): model deployments, fine-tune jobs, drift monitors."""
