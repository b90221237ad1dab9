variable "cluster_name" {
  description = "Name of the EKS cluster."
  type        = string
  default     = "llmops"
}

variable "kubernetes_version" {
  description = "Kubernetes version of the control plane and the node groups (the chart needs 1.30 or later)."
  type        = string
  default     = "1.32"
}

variable "subnet_ids" {
  description = "Private subnets for the control plane and the nodes (at least two zones)."
  type        = list(string)
}

variable "system_pool" {
  description = "The CPU node group for the gateway, the operator, MLflow, Redis, PostgreSQL and CPU replicas."
  type = object({
    instance_types = optional(list(string), ["m6i.2xlarge"])
    min_nodes      = optional(number, 1)
    max_nodes      = optional(number, 5)
    desired_nodes  = optional(number, 2)
    disk_size_gb   = optional(number, 100)
  })
  default = {}
}

variable "gpu_node_pools" {
  description = <<-EOT
    GPU node groups. Each carries the labels llmops.io/node-pool=<name> and
    llmops.io/gpu-type=<gpu_type> and the taint nvidia.com/gpu=present:NoSchedule; the
    output chart_node_pools gives the chart's operator.nodePools for exactly these.
    gpu_type is the name FineTuneJobs and ModelDeployments use in gpuType (e.g.
    nvidia-a10g for g5, nvidia-l4 for g6, nvidia-h100 for p5).
  EOT
  type = list(object({
    name           = string
    gpu_type       = string
    instance_types = list(string)
    gpus_per_node  = number
    min_nodes      = optional(number, 0)
    max_nodes      = optional(number, 4)
    desired_nodes  = optional(number, 0)
    priority       = optional(number, 0)
    capacity_type  = optional(string, "ON_DEMAND")
    disk_size_gb   = optional(number, 200)
  }))
  default = []

  validation {
    condition     = alltrue([for p in var.gpu_node_pools : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", p.name)) && p.gpus_per_node >= 1])
    error_message = "Each GPU pool needs a DNS-label name (lower case, digits, dashes) and gpus_per_node of at least 1."
  }
}

variable "tags" {
  description = "Tags added to every AWS resource."
  type        = map(string)
  default     = {}
}
