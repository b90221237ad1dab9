# A GKE cluster with a CPU system pool and two GPU pools, and llmops installed on it.
terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = ">= 3.0, < 4.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

data "google_client_config" "current" {}

module "cluster" {
  source = "../../modules/gke"

  project_id     = var.project_id
  region         = var.region
  node_locations = var.node_locations
  cluster_name   = "llmops"

  gpu_node_pools = [
    {
      name          = "gpu-l4"
      gpu_type      = "nvidia-l4"
      machine_type  = "g2-standard-24"
      gpus_per_node = 2
      max_nodes     = 4
      priority      = 5
    },
    {
      name          = "gpu-a100"
      gpu_type      = "nvidia-tesla-a100"
      machine_type  = "a2-highgpu-8g"
      gpus_per_node = 8
      max_nodes     = 2
      priority      = 10
    },
  ]
}

provider "helm" {
  kubernetes = {
    host                   = module.cluster.endpoint
    token                  = data.google_client_config.current.access_token
    cluster_ca_certificate = base64decode(module.cluster.cluster_ca_certificate)
  }
}

# KubeRay runs the RayServices (ModelDeployment) and RayJobs (FineTuneJob) the operator creates.
resource "helm_release" "kuberay" {
  name             = "kuberay-operator"
  namespace        = "kuberay-system"
  create_namespace = true
  repository       = "https://ray-project.github.io/kuberay-helm/"
  chart            = "kuberay-operator"
  version          = var.kuberay_version
}

module "llmops" {
  source = "../../modules/llmops-release"

  node_pools = module.cluster.chart_node_pools
  values = {
    mlflow = {
      artifacts = {
        type = "gcs"
        gcs  = { bucket = var.artifact_bucket }
      }
      serviceAccount = {
        annotations = { "iam.gke.io/gcp-service-account" = var.mlflow_service_account }
      }
    }
  }

  depends_on = [helm_release.kuberay]
}
