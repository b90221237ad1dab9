# An EKS cluster with a CPU system node group and two GPU node groups, and llmops on it.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 7.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = ">= 3.0, < 4.0"
    }
  }
}

provider "aws" {
  region = var.region
}

module "cluster" {
  source = "../../modules/eks"

  cluster_name = "llmops"
  subnet_ids   = var.subnet_ids

  gpu_node_pools = [
    {
      name           = "gpu-a10g"
      gpu_type       = "nvidia-a10g"
      instance_types = ["g5.12xlarge"]
      gpus_per_node  = 4
      max_nodes      = 4
      priority       = 5
    },
    {
      name           = "gpu-h100"
      gpu_type       = "nvidia-h100"
      instance_types = ["p5.48xlarge"]
      gpus_per_node  = 8
      max_nodes      = 2
      priority       = 10
    },
  ]
}

data "aws_eks_cluster_auth" "this" {
  name = module.cluster.cluster_name
}

provider "helm" {
  kubernetes = {
    host                   = module.cluster.endpoint
    token                  = data.aws_eks_cluster_auth.this.token
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

# The NVIDIA device plugin advertises nvidia.com/gpu on the GPU nodes (the NVIDIA AMI
# brings the driver); it runs on the GPU pools only and tolerates their taint.
resource "helm_release" "nvidia_device_plugin" {
  name             = "nvidia-device-plugin"
  namespace        = "nvidia-device-plugin"
  create_namespace = true
  repository       = "https://nvidia.github.io/k8s-device-plugin"
  chart            = "nvidia-device-plugin"
  version          = var.nvidia_device_plugin_version
  values = [yamlencode({
    affinity = {
      nodeAffinity = {
        requiredDuringSchedulingIgnoredDuringExecution = {
          nodeSelectorTerms = [{
            matchExpressions = [{ key = "llmops.io/gpu-type", operator = "Exists" }]
          }]
        }
      }
    }
    tolerations = [{ key = "nvidia.com/gpu", operator = "Exists", effect = "NoSchedule" }]
  })]
}

module "llmops" {
  source = "../../modules/llmops-release"

  node_pools = module.cluster.chart_node_pools
  values = {
    mlflow = {
      artifacts = {
        type = "s3"
        s3   = { bucket = var.artifact_bucket, region = var.region }
      }
      serviceAccount = {
        annotations = { "eks.amazonaws.com/role-arn" = var.mlflow_role_arn }
      }
    }
  }

  depends_on = [helm_release.kuberay, helm_release.nvidia_device_plugin]
}
