"""A real Kubernetes control plane for tests: etcd, kube-apiserver, kube-controller-manager
and kube-scheduler built from Kubernetes' own Go modules, with kwok's fake nodes.

``python -m tests.support.cluster`` builds (or finds) the binaries ahead of a test run.
"""
