output "repository_url" {
  description = "URL to push to: <account>.dkr.ecr.<region>.amazonaws.com/users-api."
  value       = aws_ecr_repository.this.repository_url
}

output "repository_arn" {
  description = "ARN of the repository (the push role may write to this one only)."
  value       = aws_ecr_repository.this.arn
}

output "repository_name" {
  description = "Name of the repository."
  value       = aws_ecr_repository.this.name
}
