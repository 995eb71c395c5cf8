output "push_role_arn" {
  description = "Role the release workflow assumes to push images (the AWS_ECR_PUSH_ROLE_ARN repository variable)."
  value       = aws_iam_role.push.arn
}

output "deploy_role_arn" {
  description = "Role the production deploy job assumes (the AWS_DEPLOY_ROLE_ARN repository variable)."
  value       = aws_iam_role.deploy.arn
}

output "oidc_provider_arn" {
  description = "The GitHub OIDC provider of this account."
  value       = local.oidc_provider_arn
}
