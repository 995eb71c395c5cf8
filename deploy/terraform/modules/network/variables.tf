variable "name" {
  type        = string
  description = "Prefix for resource names, for example users-api-prod."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "cidr_block" {
  type        = string
  description = "IPv4 range of the VPC. A /16 leaves room for pods: the VPC CNI gives every pod an address from the node subnets."
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) <= 18
    error_message = "cidr_block must be an IPv4 CIDR of /18 or larger."
  }
}

variable "az_count" {
  type        = number
  description = "Availability zones to spread over (each gets a public, a private and a database subnet)."
  default     = 3

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count must be 2 or 3: EKS and a Multi-AZ database need at least two zones."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for all zones (cheaper, for dev) instead of one per zone (no cross-zone dependency, for prod)."
  default     = false
}

variable "cluster_name" {
  type        = string
  description = "EKS cluster name, for the subnet tags that load balancer controllers use to find subnets."
}

variable "flow_log_retention_days" {
  type        = number
  description = "Days to keep VPC flow logs in CloudWatch."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}
