terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }

  # Partial configuration: bucket, region and kms_key_id come from backend.hcl
  # (copy backend.hcl.example; values from the bootstrap root's outputs):
  #   terraform init -backend-config=backend.hcl
  # Locking uses S3's own conditional writes (a .tflock object), no DynamoDB.
  backend "s3" {
    key          = "users-api/prod/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region              = var.aws_region
  allowed_account_ids = [var.aws_account_id]

  default_tags {
    tags = {
      Project     = "users-api"
      Environment = "prod"
      ManagedBy   = "terraform"
      Repository  = var.github_repository
    }
  }
}
