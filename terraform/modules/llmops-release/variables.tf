variable "release_name" {
  description = "Name of the Helm release."
  type        = string
  default     = "llmops"
}

variable "namespace" {
  description = "Namespace of the release (created when missing)."
  type        = string
  default     = "llmops"
}

variable "chart" {
  description = "The chart: a path to helm/llmops, or a chart name in chart_repository."
  type        = string
  default     = null
}

variable "chart_repository" {
  description = "Chart repository URL or OCI address (empty with a local chart path)."
  type        = string
  default     = null
}

variable "chart_version" {
  description = "Chart version to install (null: the local chart as it is)."
  type        = string
  default     = null
}

variable "node_pools" {
  description = "The chart's operator.nodePools: pass a cluster module's chart_node_pools output."
  type = list(object({
    name         = string
    gpuType      = string
    nodeSelector = map(string)
    tolerations = list(object({
      key      = string
      operator = string
      effect   = string
    }))
    gpusPerNode = number
    priority    = number
  }))
  default = []
}

variable "values" {
  description = "Further chart values (an object merged after the node pools; see helm/llmops/values.yaml)."
  type        = any
  default     = {}
}

variable "timeout_seconds" {
  description = "How long to wait for the release's pods to become ready."
  type        = number
  default     = 600
}
