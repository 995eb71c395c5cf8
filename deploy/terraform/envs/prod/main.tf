# Production: three zones, a NAT gateway per zone, Multi-AZ PostgreSQL with
# deletion protection, and the GitHub roles that push and deploy.
locals {
  name         = "users-api-prod"
  cluster_name = "users-api-prod"
  namespace    = "users-api"
}

module "network" {
  source = "../../modules/network"

  name               = local.name
  cidr_block         = var.vpc_cidr_block
  az_count           = 3
  single_nat_gateway = false
  cluster_name       = local.cluster_name
}

module "ecr" {
  source = "../../modules/ecr"

  repository_name = "users-api"
}

module "eks" {
  source = "../../modules/eks"

  cluster_name                 = local.cluster_name
  kubernetes_version           = var.kubernetes_version
  vpc_id                       = module.network.vpc_id
  subnet_ids                   = module.network.private_subnet_ids
  endpoint_public_access       = var.cluster_endpoint_public_access
  endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs
  node_instance_types          = var.node_instance_types
  node_min_size                = var.node_min_size
  node_desired_size            = var.node_min_size
  node_max_size                = var.node_max_size
  log_retention_days           = 365

  deployers = {
    github-production = {
      principal_arn = module.github_oidc.deploy_role_arn
      policy        = "AmazonEKSEditPolicy"
      namespaces    = [local.namespace]
    }
  }
}

module "database" {
  source = "../../modules/database"

  identifier                 = local.name
  vpc_id                     = module.network.vpc_id
  subnet_ids                 = module.network.database_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  instance_class             = var.db_instance_class
  allocated_storage_gib      = 50
  max_allocated_storage_gib  = 500
  multi_az                   = true
  deletion_protection        = true
  backup_retention_days      = var.db_backup_retention_days
}

module "github_oidc" {
  source = "../../modules/github-oidc"

  name_prefix                = local.name
  github_repository          = var.github_repository
  push_refs                  = ["refs/heads/main", "refs/tags/v*"]
  deploy_environment         = "production"
  ecr_repository_arn         = module.ecr.repository_arn
  eks_cluster_arn            = module.eks.cluster_arn
  existing_oidc_provider_arn = var.existing_github_oidc_provider_arn
}
