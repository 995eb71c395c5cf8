# What the release workflow needs, by the name of the GitHub repository
# variable that holds it (docs/PIPELINE.md, "Repository variables").
output "aws_account_id" {
  description = "AWS_ACCOUNT_ID"
  value       = var.aws_account_id
}

output "aws_region" {
  description = "AWS_REGION"
  value       = var.aws_region
}

output "ecr_push_role_arn" {
  description = "AWS_ECR_PUSH_ROLE_ARN: the role the publish job assumes."
  value       = module.github_oidc.push_role_arn
}

output "deploy_role_arn" {
  description = "AWS_DEPLOY_ROLE_ARN: the role a deploy job in the dev environment assumes."
  value       = module.github_oidc.deploy_role_arn
}

output "eks_cluster_name" {
  description = "EKS_CLUSTER_NAME"
  value       = module.eks.cluster_name
}

output "ecr_repository_url" {
  description = "Where images go (the workflow derives it from the account and region)."
  value       = module.ecr.repository_url
}

output "rds_endpoint" {
  description = "Host of the PostgreSQL database, for the users-api-database Secret's DATABASE_URL."
  value       = module.database.endpoint
}

output "rds_master_user_secret_arn" {
  description = "Secrets Manager secret with the master password (never in Terraform state)."
  value       = module.database.master_user_secret_arn
}

output "database_subnet_cidrs" {
  description = "Ranges of the database subnets (the pods' NetworkPolicy egress to PostgreSQL)."
  value       = module.network.database_subnet_cidrs
}

output "github_repository_variables" {
  description = "The repository variables to set, ready to paste into gh variable set."
  value = {
    AWS_ACCOUNT_ID        = var.aws_account_id
    AWS_REGION            = var.aws_region
    AWS_ECR_PUSH_ROLE_ARN = module.github_oidc.push_role_arn
    AWS_DEPLOY_ROLE_ARN   = module.github_oidc.deploy_role_arn
    EKS_CLUSTER_NAME      = module.eks.cluster_name
  }
}
