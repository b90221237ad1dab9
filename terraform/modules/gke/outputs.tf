output "cluster_name" {
  description = "Name of the cluster."
  value       = google_container_cluster.this.name
}

output "endpoint" {
  description = "The cluster's API server address (https://...)."
  value       = "https://${google_container_cluster.this.endpoint}"
}

output "cluster_ca_certificate" {
  description = "The cluster's CA certificate, base64-encoded."
  value       = google_container_cluster.this.master_auth[0].cluster_ca_certificate
  sensitive   = true
}

output "chart_node_pools" {
  description = "The chart's operator.nodePools for the GPU pools: their labels as nodeSelector, a toleration of their taint."
  value = [
    for p in var.gpu_node_pools : {
      name         = p.name
      gpuType      = p.gpu_type
      nodeSelector = { "llmops.io/node-pool" = p.name }
      tolerations  = [{ key = "nvidia.com/gpu", operator = "Exists", effect = "NoSchedule" }]
      gpusPerNode  = p.gpus_per_node
      priority     = p.priority
    }
  ]
}
