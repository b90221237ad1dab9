output "cluster_name" {
  description = "Name of the cluster."
  value       = aws_eks_cluster.this.name
}

output "endpoint" {
  description = "The cluster's API server address."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_ca_certificate" {
  description = "The cluster's CA certificate, base64-encoded."
  value       = aws_eks_cluster.this.certificate_authority[0].data
  sensitive   = true
}

output "chart_node_pools" {
  description = "The chart's operator.nodePools for the GPU node groups: their labels as nodeSelector, a toleration of their taint."
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
