# Remote-state bootstrap: the S3 bucket that holds every other root's state.
# It keeps its own state locally (it cannot store state in the bucket it is
# creating); see docs/PIPELINE.md for the one-time order of operations.
terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }
}

provider "aws" {
  region              = var.aws_region
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = {
      Project   = "users-api"
      ManagedBy = "terraform"
      Stack     = "bootstrap"
    }
  }
}
