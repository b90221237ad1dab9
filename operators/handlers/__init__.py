"""kopf handlers: read the cluster, call the pure decisions, write objects and status."""
