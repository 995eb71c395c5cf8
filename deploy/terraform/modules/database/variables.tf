variable "identifier" {
  type        = string
  description = "Name of the DB instance, for example users-api-prod."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,61}[a-z0-9]$", var.identifier)) && !can(regex("--", var.identifier))
    error_message = "identifier must start with a letter, hold lower-case letters, digits and single hyphens, and not end in a hyphen."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the database."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Database subnets in at least two zones (private, no route out)."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must name at least two subnets in different zones."
  }
}

variable "allowed_security_group_ids" {
  type        = list(string)
  description = "Security groups whose members may connect on 5432 (the EKS node/cluster security group). No CIDR range is ever allowed."

  validation {
    condition     = length(var.allowed_security_group_ids) > 0
    error_message = "allowed_security_group_ids must name at least one security group."
  }
}

variable "engine_version" {
  type        = string
  description = "PostgreSQL version: a major (15) lets RDS pick and upgrade the minor; 15.x pins one."
  default     = "15"

  validation {
    condition     = can(regex("^15(\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be PostgreSQL 15 (15 or 15.x)."
  }
}

variable "instance_class" {
  type        = string
  description = "DB instance class."
  default     = "db.t4g.medium"

  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class must be an RDS class such as db.t4g.medium."
  }
}

variable "allocated_storage_gib" {
  type        = number
  description = "Initial storage in GiB (gp3)."
  default     = 20

  validation {
    condition     = var.allocated_storage_gib >= 20 && var.allocated_storage_gib <= 65536
    error_message = "allocated_storage_gib must be between 20 and 65536."
  }
}

variable "max_allocated_storage_gib" {
  type        = number
  description = "Ceiling for storage autoscaling in GiB."
  default     = 100
}

variable "database_name" {
  type        = string
  description = "Name of the database created in the instance."
  default     = "users"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must start with a letter and hold lower-case letters, digits and underscores."
  }
}

variable "master_username" {
  type        = string
  description = "Name of the master user. Its password is generated and kept by RDS in Secrets Manager; the application should get its own, less privileged role."
  default     = "users_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,15}$", var.master_username)) && !contains(["postgres", "admin", "rdsadmin"], var.master_username)
    error_message = "master_username must be 1-16 lower-case letters, digits or underscores, not a reserved name."
  }
}

variable "multi_az" {
  type        = bool
  description = "A synchronous standby in another zone with automatic failover (prod: true)."
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the instance (prod: true). Also keeps a final snapshot when it is deleted."
}

variable "backup_retention_days" {
  type        = number
  description = "Days of automated backups (point-in-time recovery window)."
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35 (0 would turn backups off)."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key for storage encryption; null uses the account's aws/rds key."
  default     = null
}
