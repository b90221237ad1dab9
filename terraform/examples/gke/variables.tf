variable "project_id" {
  description = "Google Cloud project for the cluster."
  type        = string
}

variable "region" {
  description = "Region of the cluster."
  type        = string
  default     = "us-central1"
}

variable "node_locations" {
  description = "Zones offering the GPU types of the pools."
  type        = list(string)
  default     = ["us-central1-a", "us-central1-c"]
}

variable "artifact_bucket" {
  description = "GCS bucket for MLflow's model artifacts."
  type        = string
}

variable "mlflow_service_account" {
  description = "Google service account (with access to the bucket) that MLflow's pods act as through Workload Identity."
  type        = string
}

variable "kuberay_version" {
  description = "Version of the KubeRay operator chart (RayService and RayJob)."
  type        = string
  default     = "1.4.2"
}
