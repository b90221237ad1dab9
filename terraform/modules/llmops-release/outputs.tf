output "gateway_service" {
  description = "In-cluster address of the gateway's OpenAI-compatible API."
  value       = "http://${local.fullname}-gateway.${var.namespace}.svc/v1"
}

output "status" {
  description = "Status of the Helm release."
  value       = helm_release.llmops.status
}
