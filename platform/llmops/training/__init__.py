"""Fine-tuning: the lora-sft recipe, dataset checks, checkpoints, evaluation, Ray Train."""
