variable "name_prefix" {
  type        = string
  description = "Prefix of the IAM role names, for example users-api-prod."

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9+=,.@_-]{1,40}$", var.name_prefix))
    error_message = "name_prefix must be 2-41 characters that IAM role names allow."
  }
}

variable "github_repository" {
  type        = string
  description = "The only GitHub repository whose workflows may assume the roles, as owner/name."

  validation {
    condition     = can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$", var.github_repository)) && !can(regex("[*?]", var.github_repository))
    error_message = "github_repository must be owner/name exactly (no wildcards)."
  }
}

variable "push_refs" {
  type        = list(string)
  description = "Git refs whose workflow runs may push images: main, and release tags (a tag pattern; protect v* tags with a tag ruleset)."
  default     = ["refs/heads/main", "refs/tags/v*"]

  validation {
    condition     = length(var.push_refs) > 0 && alltrue([for r in var.push_refs : can(regex("^refs/(heads|tags)/[A-Za-z0-9._/-]+\\*?$", r))])
    error_message = "push_refs must be refs such as refs/heads/main or refs/tags/v* (a single trailing * at most)."
  }
}

variable "deploy_environment" {
  type        = string
  description = "GitHub environment whose jobs may assume the deploy role (protect it with required reviewers and a main-only branch rule)."
  default     = "production"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,255}$", var.deploy_environment))
    error_message = "deploy_environment must be a GitHub environment name without wildcards."
  }
}

variable "ecr_repository_arn" {
  type        = string
  description = "The ECR repository the push role may write to (and no other)."
}

variable "eks_cluster_arn" {
  type        = string
  description = "The EKS cluster the deploy role may describe (its Kubernetes rights come from an EKS access entry)."
}

variable "existing_oidc_provider_arn" {
  type        = string
  description = "ARN of an existing token.actions.githubusercontent.com provider in this account; null creates one (an account holds at most one)."
  default     = null
}

variable "max_session_hours" {
  type        = number
  description = "Longest session of either role, in hours."
  default     = 1

  validation {
    condition     = var.max_session_hours >= 1 && var.max_session_hours <= 12
    error_message = "max_session_hours must be between 1 and 12."
  }
}
