variable "repository_name" {
  type        = string
  description = "Name of the ECR repository (the release workflow pushes to users-api)."
  default     = "users-api"

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.repository_name)) && length(var.repository_name) <= 256
    error_message = "repository_name must be a valid ECR repository name (lower case, digits, . _ - and /)."
  }
}

variable "keep_main_images" {
  type        = number
  description = "How many images built from main (tags main-*) to keep; release tags (v*) are never expired."
  default     = 60

  validation {
    condition     = var.keep_main_images >= 10 && var.keep_main_images <= 1000
    error_message = "keep_main_images must be between 10 and 1000 (each release pushes three: two architectures and the index)."
  }
}

variable "untagged_expiry_days" {
  type        = number
  description = "Days before an untagged image (a failed or superseded push) is deleted."
  default     = 14

  validation {
    condition     = var.untagged_expiry_days >= 1 && var.untagged_expiry_days <= 365
    error_message = "untagged_expiry_days must be between 1 and 365."
  }
}
