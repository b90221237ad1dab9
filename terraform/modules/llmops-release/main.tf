locals {
  chart = coalesce(var.chart, "${path.module}/../../../helm/llmops")
  # The chart's names: <release>-llmops, or the release name when it holds "llmops".
  fullname = strcontains(var.release_name, "llmops") ? var.release_name : "${var.release_name}-llmops"
}

resource "helm_release" "llmops" {
  name             = var.release_name
  namespace        = var.namespace
  create_namespace = true
  chart            = local.chart
  repository       = var.chart_repository
  version          = var.chart_version
  timeout          = var.timeout_seconds
  wait             = true
  atomic           = true

  values = [
    yamlencode({ operator = { nodePools = var.node_pools } }),
    yamlencode(var.values),
  ]
}
