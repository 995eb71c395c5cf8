variable "aws_region" {
  type        = string
  description = "AWS region of the platform (the AWS_REGION repository variable)."

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as eu-west-1."
  }
}

variable "aws_account_id" {
  type        = string
  description = "The 12-digit AWS account of dev; the provider refuses to touch any other."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be 12 digits."
  }
}

variable "github_repository" {
  type        = string
  description = "The GitHub repository (owner/name) whose workflows may push images and deploy; no other repository can assume the roles."

  validation {
    condition     = can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be owner/name exactly (no wildcards)."
  }
}

variable "existing_github_oidc_provider_arn" {
  type        = string
  description = "ARN of the account's existing GitHub OIDC provider, if there is one; null creates it."
  default     = null
}

variable "vpc_cidr_block" {
  type        = string
  description = "IPv4 range of the VPC."
  default     = "10.41.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr_block, 0))
    error_message = "vpc_cidr_block must be an IPv4 CIDR range."
  }
}

variable "kubernetes_version" {
  type        = string
  description = "Kubernetes minor version of the cluster (one EKS offers in standard support)."
  default     = "1.33"

  validation {
    condition     = can(regex("^1\\.(2[89]|3[0-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must look like 1.33."
  }
}

variable "cluster_endpoint_public_access" {
  type        = bool
  description = "Whether the Kubernetes API has a public endpoint (GitHub-hosted runners need it)."
  default     = true
}

variable "cluster_endpoint_public_access_cidrs" {
  type        = list(string)
  description = "Ranges allowed to reach the public Kubernetes API endpoint."

  validation {
    condition     = length(var.cluster_endpoint_public_access_cidrs) > 0 && alltrue([for c in var.cluster_endpoint_public_access_cidrs : can(cidrhost(c, 0))])
    error_message = "cluster_endpoint_public_access_cidrs must be a non-empty list of CIDR ranges."
  }
}

variable "node_instance_types" {
  type        = list(string)
  description = "Instance types of the nodes."
  default     = ["t3.medium"]

  validation {
    condition     = length(var.node_instance_types) > 0
    error_message = "node_instance_types must name at least one instance type."
  }
}

variable "node_min_size" {
  type        = number
  description = "Fewest nodes (two, so a drain of one never stops the service)."
  default     = 2

  validation {
    condition     = var.node_min_size >= 1
    error_message = "node_min_size must be at least 1."
  }
}

variable "node_max_size" {
  type        = number
  description = "Most nodes."
  default     = 3

  validation {
    condition     = var.node_max_size >= 1 && var.node_max_size <= 100
    error_message = "node_max_size must be between 1 and 100."
  }
}

variable "db_instance_class" {
  type        = string
  description = "RDS instance class of the dev database."
  default     = "db.t4g.micro"

  validation {
    condition     = startswith(var.db_instance_class, "db.")
    error_message = "db_instance_class must be an RDS class such as db.m6g.large."
  }
}

variable "db_backup_retention_days" {
  type        = number
  description = "Days of automated backups of the dev database."
  default     = 1

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35."
  }
}

variable "ecr_repository_name" {
  type        = string
  description = "ECR repository of dev. users-api-dev so that dev can share an account with prod (whose repository is users-api)."
  default     = "users-api-dev"

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*$", var.ecr_repository_name))
    error_message = "ecr_repository_name must be a valid ECR repository name."
  }
}
