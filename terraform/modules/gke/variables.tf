variable "project_id" {
  description = "Google Cloud project that holds the cluster."
  type        = string
}

variable "region" {
  description = "Region of the (regional) cluster, e.g. us-central1."
  type        = string
}

variable "node_locations" {
  description = "Zones of the region where nodes run; GPU types are offered in some zones only. Empty: the region's default zones."
  type        = list(string)
  default     = []
}

variable "cluster_name" {
  description = "Name of the GKE cluster."
  type        = string
  default     = "llmops"
}

variable "network" {
  description = "VPC network of the cluster."
  type        = string
  default     = "default"
}

variable "subnetwork" {
  description = "Subnetwork of the cluster (empty: the network's default)."
  type        = string
  default     = ""
}

variable "release_channel" {
  description = "GKE release channel: RAPID, REGULAR or STABLE."
  type        = string
  default     = "REGULAR"
}

variable "system_pool" {
  description = "The CPU pool for the gateway, the operator, MLflow, Redis, PostgreSQL and CPU replicas."
  type = object({
    machine_type = optional(string, "e2-standard-8")
    min_nodes    = optional(number, 1)
    max_nodes    = optional(number, 5)
    disk_size_gb = optional(number, 100)
  })
  default = {}
}

variable "gpu_node_pools" {
  description = <<-EOT
    GPU node pools. Each carries the labels llmops.io/node-pool=<name> and
    llmops.io/gpu-type=<gpu_type> and the taint nvidia.com/gpu=present:NoSchedule; the
    output chart_node_pools gives the chart's operator.nodePools for exactly these.
    gpu_type is the GKE accelerator type (nvidia-tesla-a100, nvidia-l4, nvidia-h100-80gb...),
    the value FineTuneJobs and ModelDeployments name in gpuType.
  EOT
  type = list(object({
    name          = string
    gpu_type      = string
    machine_type  = string
    gpus_per_node = number
    min_nodes     = optional(number, 0)
    max_nodes     = optional(number, 4)
    priority      = optional(number, 0)
    spot          = optional(bool, false)
    disk_size_gb  = optional(number, 200)
  }))
  default = []

  validation {
    condition     = alltrue([for p in var.gpu_node_pools : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", p.name)) && p.gpus_per_node >= 1])
    error_message = "Each GPU pool needs a DNS-label name (lower case, digits, dashes) and gpus_per_node of at least 1."
  }
}

variable "labels" {
  description = "Resource labels added to the cluster and its nodes."
  type        = map(string)
  default     = {}
}
