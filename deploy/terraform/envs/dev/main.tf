# Dev: the same modules as prod, smaller and cheaper: two zones, one NAT
# gateway, a single-AZ database that can be destroyed, and GitHub roles bound
# to main and to a "dev" environment.
locals {
  name         = "users-api-dev"
  cluster_name = "users-api-dev"
  namespace    = "users-api"
}

module "network" {
  source = "../../modules/network"

  name               = local.name
  cidr_block         = var.vpc_cidr_block
  az_count           = 2
  single_nat_gateway = true
  cluster_name       = local.cluster_name
}

module "ecr" {
  source = "../../modules/ecr"

  repository_name  = var.ecr_repository_name
  keep_main_images = 20
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
  log_retention_days           = 30

  deployers = {
    github-dev = {
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
  allocated_storage_gib      = 20
  max_allocated_storage_gib  = 50
  multi_az                   = false
  deletion_protection        = false
  backup_retention_days      = var.db_backup_retention_days
}

module "github_oidc" {
  source = "../../modules/github-oidc"

  name_prefix                = local.name
  github_repository          = var.github_repository
  push_refs                  = ["refs/heads/main"]
  deploy_environment         = "dev"
  ecr_repository_arn         = module.ecr.repository_arn
  eks_cluster_arn            = module.eks.cluster_arn
  existing_oidc_provider_arn = var.existing_github_oidc_provider_arn
}
