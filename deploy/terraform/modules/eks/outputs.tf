output "cluster_name" {
  description = "Name of the EKS cluster (the EKS_CLUSTER_NAME repository variable)."
  value       = aws_eks_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = aws_eks_cluster.this.arn
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_security_group_id" {
  description = "The security group EKS attaches to the control plane and to every managed node (the database admits PostgreSQL from it)."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "oidc_issuer_url" {
  description = "OIDC issuer of the cluster's service-account tokens."
  value       = aws_eks_cluster.this.identity[0].oidc[0].issuer
}

output "node_role_arn" {
  description = "IAM role of the nodes."
  value       = aws_iam_role.node.arn
}

output "secrets_kms_key_arn" {
  description = "KMS key that encrypts Kubernetes Secrets."
  value       = aws_kms_key.secrets.arn
}
