variable "aws_region" {
  type        = string
  description = "AWS region of the state bucket (and, usually, of the platform)."

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as eu-west-1."
  }
}

variable "aws_account_id" {
  type        = string
  description = "The 12-digit AWS account the state bucket belongs to; the provider refuses any other."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be 12 digits."
  }
}

variable "state_bucket_name" {
  type        = string
  description = "Globally unique name of the S3 bucket for Terraform state, for example users-api-tfstate-<account id>."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name)) && !can(regex("\\.\\.", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)."
  }
}

variable "noncurrent_version_retention_days" {
  type        = number
  description = "Days an overwritten state version is kept before it expires (to recover from a bad apply)."
  default     = 90

  validation {
    condition     = var.noncurrent_version_retention_days >= 30 && var.noncurrent_version_retention_days <= 3650
    error_message = "noncurrent_version_retention_days must be between 30 and 3650."
  }
}
