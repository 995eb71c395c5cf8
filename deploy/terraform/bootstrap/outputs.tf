output "state_bucket_name" {
  description = "Put this in envs/<env>/backend.hcl as bucket."
  value       = aws_s3_bucket.state.id
}

output "state_kms_key_arn" {
  description = "Put this in envs/<env>/backend.hcl as kms_key_id."
  value       = aws_kms_key.state.arn
}

output "aws_region" {
  description = "Put this in envs/<env>/backend.hcl as region."
  value       = var.aws_region
}

output "account_id" {
  description = "The account the state lives in."
  value       = data.aws_caller_identity.current.account_id
}
