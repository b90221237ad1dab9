locals {
  gpu_pools = { for p in var.gpu_node_pools : p.name => p }
}

data "aws_iam_policy_document" "cluster_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "node_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name               = "${var.cluster_name}-cluster"
  assume_role_policy = data.aws_iam_policy_document.cluster_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
}

resource "aws_iam_role" "node" {
  name               = "${var.cluster_name}-node"
  assume_role_policy = data.aws_iam_policy_document.node_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset([
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  ])
  role       = aws_iam_role.node.name
  policy_arn = each.value
}

resource "aws_eks_cluster" "this" {
  name     = var.cluster_name
  version  = var.kubernetes_version
  role_arn = aws_iam_role.cluster.arn
  tags     = var.tags

  access_config {
    authentication_mode = "API"
  }

  vpc_config {
    subnet_ids = var.subnet_ids
  }

  depends_on = [aws_iam_role_policy_attachment.cluster]
}

resource "aws_eks_node_group" "system" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "system"
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = var.subnet_ids
  instance_types  = var.system_pool.instance_types
  disk_size       = var.system_pool.disk_size_gb
  ami_type        = "AL2023_x86_64_STANDARD"
  labels          = { "llmops.io/node-pool" = "system" }
  tags            = var.tags

  scaling_config {
    min_size     = var.system_pool.min_nodes
    max_size     = var.system_pool.max_nodes
    desired_size = var.system_pool.desired_nodes
  }

  depends_on = [aws_iam_role_policy_attachment.node]
}

resource "aws_eks_node_group" "gpu" {
  for_each = local.gpu_pools

  cluster_name    = aws_eks_cluster.this.name
  node_group_name = each.value.name
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = var.subnet_ids
  instance_types  = each.value.instance_types
  capacity_type   = each.value.capacity_type
  disk_size       = each.value.disk_size_gb
  # The NVIDIA AMI brings the driver and the container toolkit; the NVIDIA device plugin
  # (a DaemonSet) advertises nvidia.com/gpu.
  ami_type = "AL2023_x86_64_NVIDIA"
  labels = {
    "llmops.io/node-pool" = each.value.name
    "llmops.io/gpu-type"  = each.value.gpu_type
  }
  tags = merge(var.tags, {
    "k8s.io/cluster-autoscaler/node-template/label/llmops.io/node-pool" = each.value.name
    "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"      = "present:NoSchedule"
  })

  taint {
    key    = "nvidia.com/gpu"
    value  = "present"
    effect = "NO_SCHEDULE"
  }

  scaling_config {
    min_size     = each.value.min_nodes
    max_size     = each.value.max_nodes
    desired_size = each.value.desired_nodes
  }

  lifecycle {
    # The cluster autoscaler changes the size.
    ignore_changes = [scaling_config[0].desired_size]
  }

  depends_on = [aws_iam_role_policy_attachment.node]
}
