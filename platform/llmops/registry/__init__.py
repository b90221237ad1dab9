"""The MLflow model registry: versions with lineage tags, aliases, gates, promotion, rollback."""
