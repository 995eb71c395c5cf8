variable "cluster_name" {
  type        = string
  description = "Name of the EKS cluster."

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must start with a letter and hold only letters, digits and hyphens (at most 100)."
  }
}

variable "kubernetes_version" {
  type        = string
  description = "Kubernetes minor version of the control plane and nodes, for example 1.33. Pick one EKS supports in standard support."
  default     = "1.33"

  validation {
    condition     = can(regex("^1\\.(2[89]|3[0-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must look like 1.33 (1.28 or later)."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cluster."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the control plane's network interfaces and the nodes (two zones at least)."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must name at least two subnets in different zones."
  }
}

variable "endpoint_public_access" {
  type        = bool
  description = "Whether the Kubernetes API has a public endpoint. GitHub-hosted runners need it to deploy; a self-hosted runner inside the VPC does not."
  default     = true
}

variable "endpoint_public_access_cidrs" {
  type        = list(string)
  description = "Ranges allowed to reach the public API endpoint. Every call is still authenticated through IAM and EKS access entries."

  validation {
    condition     = length(var.endpoint_public_access_cidrs) > 0 && alltrue([for c in var.endpoint_public_access_cidrs : can(cidrhost(c, 0))])
    error_message = "endpoint_public_access_cidrs must be a non-empty list of CIDR ranges."
  }
}

variable "node_instance_types" {
  type        = list(string)
  description = "Instance types of the managed node group, in order of preference."
  default     = ["t3.medium"]

  validation {
    condition     = length(var.node_instance_types) > 0
    error_message = "node_instance_types must name at least one instance type."
  }
}

variable "node_ami_type" {
  type        = string
  description = "AMI type of the nodes: AL2023_x86_64_STANDARD, or AL2023_ARM_64_STANDARD for Graviton instance types (the image is built for both)."
  default     = "AL2023_x86_64_STANDARD"

  validation {
    condition     = contains(["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"], var.node_ami_type)
    error_message = "node_ami_type must be AL2023_x86_64_STANDARD, AL2023_ARM_64_STANDARD, BOTTLEROCKET_x86_64 or BOTTLEROCKET_ARM_64."
  }
}

variable "node_min_size" {
  type        = number
  description = "Fewest nodes. Two or more keeps the service up through a node drain (the PodDisruptionBudget needs somewhere to go)."
  default     = 2

  validation {
    condition     = var.node_min_size >= 1
    error_message = "node_min_size must be at least 1."
  }
}

variable "node_desired_size" {
  type        = number
  description = "Nodes at creation (the cluster autoscaler, if installed, moves it later; Terraform ignores the drift)."
  default     = 2
}

variable "node_max_size" {
  type        = number
  description = "Most nodes."
  default     = 4

  validation {
    condition     = var.node_max_size >= 1 && var.node_max_size <= 100
    error_message = "node_max_size must be between 1 and 100."
  }
}

variable "node_disk_size_gib" {
  type        = number
  description = "Root volume of each node, in GiB (encrypted gp3)."
  default     = 30

  validation {
    condition     = var.node_disk_size_gib >= 20 && var.node_disk_size_gib <= 500
    error_message = "node_disk_size_gib must be between 20 and 500."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days to keep the control plane's audit and API logs."
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "deployers" {
  type = map(object({
    principal_arn = string
    policy        = string
    namespaces    = list(string)
  }))
  description = <<-EOT
    IAM roles that may deploy, each with an EKS access policy limited to some
    namespaces. policy is AmazonEKSEditPolicy (create and change the usual
    namespaced objects) or AmazonEKSAdminPolicy (also Roles and RoleBindings).
  EOT
  default     = {}

  validation {
    condition = alltrue([
      for d in values(var.deployers) :
      contains(["AmazonEKSEditPolicy", "AmazonEKSAdminPolicy", "AmazonEKSViewPolicy"], d.policy) && length(d.namespaces) > 0
    ])
    error_message = "Each deployer needs policy AmazonEKSEditPolicy, AmazonEKSAdminPolicy or AmazonEKSViewPolicy, and at least one namespace: cluster-wide access is not offered here."
  }
}
