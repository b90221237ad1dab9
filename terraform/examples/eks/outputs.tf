output "gateway" {
  description = "In-cluster address of the gateway."
  value       = module.llmops.gateway_service
}

output "node_pools" {
  description = "The GPU pools as the chart's operator sees them."
  value       = module.cluster.chart_node_pools
}
