locals {
  gpu_pools = { for p in var.gpu_node_pools : p.name => p }
}

resource "google_container_cluster" "this" {
  name                = var.cluster_name
  project             = var.project_id
  location            = var.region
  node_locations      = length(var.node_locations) > 0 ? var.node_locations : null
  network             = var.network
  subnetwork          = var.subnetwork != "" ? var.subnetwork : null
  resource_labels     = var.labels
  deletion_protection = true

  # Node pools are managed below; the default pool is removed at creation.
  remove_default_node_pool = true
  initial_node_count       = 1

  release_channel {
    channel = var.release_channel
  }

  workload_identity_config {
    workload_pool = "${var.project_id}.svc.id.goog"
  }

  # NetworkPolicies of the chart are enforced by Dataplane V2.
  datapath_provider = "ADVANCED_DATAPATH"
}

resource "google_container_node_pool" "system" {
  name     = "system"
  project  = var.project_id
  location = var.region
  cluster  = google_container_cluster.this.name

  autoscaling {
    min_node_count = var.system_pool.min_nodes
    max_node_count = var.system_pool.max_nodes
  }

  node_config {
    machine_type = var.system_pool.machine_type
    disk_size_gb = var.system_pool.disk_size_gb
    labels       = merge(var.labels, { "llmops.io/node-pool" = "system" })
    oauth_scopes = ["https://www.googleapis.com/auth/cloud-platform"]
    workload_metadata_config {
      mode = "GKE_METADATA"
    }
  }
}

resource "google_container_node_pool" "gpu" {
  for_each = local.gpu_pools

  name     = each.value.name
  project  = var.project_id
  location = var.region
  cluster  = google_container_cluster.this.name

  autoscaling {
    min_node_count = each.value.min_nodes
    max_node_count = each.value.max_nodes
  }

  node_config {
    machine_type = each.value.machine_type
    disk_size_gb = each.value.disk_size_gb
    spot         = each.value.spot
    labels = merge(var.labels, {
      "llmops.io/node-pool" = each.value.name
      "llmops.io/gpu-type"  = each.value.gpu_type
    })
    oauth_scopes = ["https://www.googleapis.com/auth/cloud-platform"]

    guest_accelerator {
      type  = each.value.gpu_type
      count = each.value.gpus_per_node
      gpu_driver_installation_config {
        gpu_driver_version = "LATEST"
      }
    }

    taint {
      key    = "nvidia.com/gpu"
      value  = "present"
      effect = "NO_SCHEDULE"
    }

    workload_metadata_config {
      mode = "GKE_METADATA"
    }
  }
}
