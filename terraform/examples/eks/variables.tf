variable "region" {
  description = "AWS region of the cluster."
  type        = string
  default     = "us-east-1"
}

variable "subnet_ids" {
  description = "Private subnets (two zones or more) for the cluster and its nodes."
  type        = list(string)
}

variable "artifact_bucket" {
  description = "S3 bucket for MLflow's model artifacts."
  type        = string
}

variable "mlflow_role_arn" {
  description = "IAM role (with access to the bucket) that MLflow's pods assume through IRSA."
  type        = string
}

variable "kuberay_version" {
  description = "Version of the KubeRay operator chart (RayService and RayJob)."
  type        = string
  default     = "1.4.2"
}

variable "nvidia_device_plugin_version" {
  description = "Version of the NVIDIA device plugin chart that advertises the GPUs."
  type        = string
  default     = "0.17.1"
}
