"""The llmops Kubernetes operator (kopf): ModelDeployment, FineTuneJob and DriftMonitor.

Decisions (placement, phases, drift policy) are pure functions over plain data
(`placement`, `phases`, `driftpolicy`); manifests are rendered by pure functions
(`render`); the kopf handlers (`handlers`) read the cluster, call those and write
objects through `kube`.
"""
