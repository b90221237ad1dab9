module llmops.test/crdassets

go 1.26

// Only the CRD manifests these modules ship are used; nothing here is built.
require (
	github.com/ray-project/kuberay/ray-operator v1.5.0
	sigs.k8s.io/kueue v0.17.0
)
